#include "inkgen/options/option_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

// The CLI11 names an option answers to.
std::vector<std::string> names_of(const OptionSpec& o) {
  if (o.type == OptionType::flag) return {(o.negated_flag ? "--no-" : "--") + o.key};
  if (o.names.empty()) return {"--" + o.key};
  std::vector<std::string> names;
  std::stringstream in(o.names);
  for (std::string n; std::getline(in, n, ',');)
    names.push_back(n);
  return names;
}

TEST(OptionTable, NoKeyOrNameIsDeclaredTwice) {
  std::set<std::string> keys, names;
  for (const auto& o : option_table()) {
    EXPECT_TRUE(keys.insert(o.key).second) << "key declared twice: " << o.key;
    for (const auto& n : names_of(o))
      EXPECT_TRUE(names.insert(n).second) << "command-line name used twice: " << n;
    EXPECT_FALSE(o.help.empty()) << o.key;
    EXPECT_TRUE(o.apply) << o.key;
  }
}

TEST(OptionTable, EveryJobsKeyIsAnOptionOfTheSingleCommandsAndOfBatch) {
  for (const auto& o : option_table()) {
    if (!(o.scopes & in_jobs)) continue;
    EXPECT_TRUE(o.scopes & in_batch) << o.key << " is a JOBS key but not a batch option";
    // The single commands take the mode as their name (maximize, minimize); the atlas's layer
    // and channels belong to inkgen atlas.
    if (o.key != "mode")
      EXPECT_TRUE(o.scopes & (in_single | in_atlas))
          << o.key << " is a JOBS key but not a single command's option";
    EXPECT_EQ(o.scopes & in_atlas, o.key == "layer" || o.key == "channels" ? in_atlas : 0u)
        << o.key;
  }
  EXPECT_NE(find_option("crops")->scopes & in_batch, 0u);  // batch --crop auto is an option
}

TEST(OptionTable, DefaultsAreReadOffTheCoreStructsAndTheRecipe) {
  const nlohmann::json d = record_settings(resolve_settings(JobRequest{}), in_jobs);
  OptimizeOptions core;
  NoiseKind noise = NoiseKind::uniform;
  apply_recipe(Recipe::minimal, Direction::maximize, core, noise);
  EXPECT_EQ(d["recipe"], "minimal");
  EXPECT_EQ(d["steps"], core.steps);
  EXPECT_EQ(d["lr"], default_learning_rate(core.rule.kind));
  EXPECT_EQ(d["optimizer"], "ngd");
  EXPECT_EQ(d["objective"], "bce");
  EXPECT_EQ(d["grad_blur"], core.grad_blur);
  EXPECT_EQ(d["stop_at"], 0.9);
  EXPECT_EQ(d["noise"], "auto");
  EXPECT_EQ(d["blur_sigma"], core.regularizers.blur_sigma);
  EXPECT_EQ(d["report_every"], core.report_every);
  EXPECT_EQ(d["clamp"], core.clamp);
  EXPECT_EQ(d["z0"], "card");
  EXPECT_EQ(d["model"], "bundled");
}

TEST(OptionTable, TheRecipeSetsDefaultsThatSingleOptionsOverride) {
  JobRequest r;
  r.values = {{"mode", "minimize"}};
  EXPECT_EQ(resolve_settings(r).optimize.stop_at, 0.1);  // the minimal recipe's target
  EXPECT_EQ(resolve_settings(r).optimize.change_sign, ChangeSign::auto_);
  EXPECT_EQ(resolve_settings(r).optimize.grad_threshold, 0.05);
  r.values["recipe"] = "classic";
  const JobSettings classic = resolve_settings(r);
  EXPECT_EQ(classic.optimize.rule.kind, OptimizerKind::adam);
  EXPECT_EQ(classic.optimize.rule.lr, 0.01);
  EXPECT_EQ(classic.optimize.objective.text(), "logit");
  EXPECT_EQ(classic.optimize.grad_blur, 0.0);
  EXPECT_EQ(classic.optimize.change_sign, ChangeSign::both);
  EXPECT_EQ(classic.optimize.grad_threshold, 0.0);
  EXPECT_FALSE(classic.optimize.stop_at.has_value());
  EXPECT_EQ(classic.noise, NoiseKind::uniform);
  r.values["objective"] = "bce";
  r.values["stop-at"] = 0.3;
  EXPECT_EQ(resolve_settings(r).optimize.objective.text(), "bce");
  EXPECT_EQ(resolve_settings(r).optimize.stop_at, 0.3);
  r.values["recipe"] = "minimal";
  r.values["stop-at"] = "off";
  EXPECT_FALSE(resolve_settings(r).optimize.stop_at.has_value());
}

TEST(OptionTable, RunJsonNamesAreTheKeysForEveryScope) {
  const JobSettings s = resolve_settings(JobRequest{});
  const nlohmann::json single = record_settings(s, in_single | in_atlas);
  const nlohmann::json job = record_settings(s, in_jobs);
  for (const auto& [name, value] : job.items()) {
    if (name == "mode") continue;
    EXPECT_TRUE(single.contains(name)) << name << " is named differently in a single run";
  }
  EXPECT_TRUE(job.contains("source"));
  EXPECT_TRUE(job.contains("crops"));
  EXPECT_FALSE(job.contains("from"));
}

TEST(OptionTable, ValuesApplyAndDependentDefaultsFollow) {
  JobRequest r;
  r.values = {{"optimizer", "sgd"}, {"steps", 7}, {"segment", "s"}, {"crops", "auto"}};
  const JobSettings s = resolve_settings(r);
  EXPECT_EQ(s.optimize.steps, 7);
  EXPECT_EQ(s.optimize.rule.lr, default_learning_rate(OptimizerKind::sgd));
  EXPECT_EQ(s.optimize.fourier_range, FourierRange::clamp_around_start);
  EXPECT_EQ(s.crops_kind, CropsKind::tiled);
  r.values["objective"] = "mean";
  try {
    resolve_settings(r);
    FAIL() << "an unknown objective was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("--objective term 'mean' is unknown; write logit, bce"),
              std::string::npos)
        << e.what();
  }
}

TEST(OptionTable, AHiddenLayerObjectiveDropsTheInkTargetAndTheChoiceOfWay) {
  JobRequest r;
  r.values["objective"] = "channel:down2:3 - 0.5*bce";
  JobSettings s = resolve_settings(r);
  EXPECT_EQ(s.optimize.objective.text(), "channel:down2:3 - 0.5*bce");
  EXPECT_FALSE(s.optimize.stop_at.has_value());
  EXPECT_EQ(s.optimize.change_sign, ChangeSign::both);
  EXPECT_EQ(s.optimize.grad_threshold, 0.05);  // the rest of the recipe stays
  r.values["stop-at"] = 0.5;
  r.values["change-sign"] = "up";
  s = resolve_settings(r);
  EXPECT_EQ(s.optimize.stop_at, 0.5);  // given, it is kept
  EXPECT_EQ(s.optimize.change_sign, ChangeSign::up);
  r.values["change-sign"] = "auto";
  try {
    resolve_settings(r);
    FAIL() << "auto was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("give up, down or both"), std::string::npos);
  }
  // A JOBS list is stored as its text; run.json records that text.
  const OptionFailure fail = [](const std::string& p) { throw Error(ErrorKind::usage, p); };
  const auto stored = check_option_value(
      *find_option("objective"),
      nlohmann::json::parse(R"([{"term": "channel:down2:3"}, {"term": "logit", "weight": -2}])"),
      "\"objective\"", fail);
  EXPECT_EQ(stored, "channel:down2:3 - 2*logit");
  EXPECT_THROW(check_option_value(*find_option("objective"), nlohmann::json(3), "x", fail), Error);
}

// A layer makes an atlas: channel 0 of the layer (each run reads its own), maximized, both ways,
// without the ink target; an objective or minimize beside it is refused.
TEST(OptionTable, ALayerMakesAnAtlasOfItsChannels) {
  JobRequest r;
  r.values["layer"] = "down2";
  JobSettings s = resolve_settings(r);
  EXPECT_EQ(s.layer, "down2");
  EXPECT_EQ(s.channels, "all");
  EXPECT_EQ(s.mode, Direction::maximize);
  EXPECT_EQ(s.optimize.objective.text(), "channel:down2:0");
  EXPECT_FALSE(s.optimize.stop_at.has_value());
  EXPECT_EQ(s.optimize.change_sign, ChangeSign::both);
  const nlohmann::json recorded = record_settings(s, in_jobs);
  EXPECT_EQ(recorded["layer"], "down2");
  EXPECT_EQ(recorded["channels"], "all");
  // Not an atlas: nothing recorded, so that older jobs keep their fingerprints.
  const nlohmann::json plain = record_settings(resolve_settings(JobRequest{}), in_jobs);
  EXPECT_FALSE(plain.contains("layer"));
  EXPECT_FALSE(plain.contains("channels"));
  for (const auto& [key, value] :
       std::map<std::string, std::string>{{"objective", "logit"}, {"mode", "minimize"}}) {
    JobRequest bad = r;
    bad.values[key] = value;
    try {
      resolve_settings(bad);
      FAIL() << key << " was taken beside a layer";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage);
    }
  }
  JobRequest spaced;
  spaced.values["layer"] = "a b";
  EXPECT_THROW(resolve_settings(spaced), Error);
}

TEST(OptionTable, TypesAreCheckedTheSameWayForTheCommandLineAndJobs) {
  const OptionFailure fail = [](const std::string& p) { throw Error(ErrorKind::usage, p); };
  const auto& steps = *find_option("steps");
  EXPECT_EQ(check_option_value(steps, "12", "--steps", fail), 12);
  EXPECT_EQ(check_option_value(steps, 12, "\"steps\"", fail), 12);
  EXPECT_THROW(check_option_value(steps, "many", "--steps", fail), Error);
  EXPECT_THROW(check_option_value(*find_option("seed"), "-1", "--seed", fail), Error);
  EXPECT_EQ(check_option_value(*find_option("crops"), nlohmann::json({"auto"}), "--crops", fail),
            "auto");
  EXPECT_THROW(check_option_value(*find_option("crops"), nlohmann::json({"auto", "0,0,4,4"}),
                                  "--crops", fail),
               Error);
}

TEST(OptionTable, OtherSpellingsFindTheirOption) {
  EXPECT_EQ(find_option("from")->key, "source");
  EXPECT_EQ(find_option("crop")->key, "crops");
  EXPECT_EQ(find_option("noise_range")->key, "noise-range");
  EXPECT_EQ(find_option("no-clamp")->key, "clamp");
  EXPECT_EQ(find_option("stepz"), nullptr);
}

TEST(OptionTable, TheLineWinsOverTheDefaults) {
  JobRequest line, defaults;
  line.values = {{"steps", 3}};
  defaults.values = {{"steps", 9}, {"lr", 0.5}};
  const JobRequest merged = merge_requests(line, defaults);
  EXPECT_EQ(merged.get<int>("steps"), 3);
  EXPECT_EQ(merged.get<double>("lr"), 0.5);
}

TEST(OptionTable, LoHiPairsAreTwoFiniteBoundedNumbers) {
  const auto pair = parse_lo_hi("-0.5,1e3", "--range");
  EXPECT_EQ(pair[0], -0.5);
  EXPECT_EQ(pair[1], 1000.0);
  for (const char* bad : {"0,1e308", "-1e308,1e308", "0,inf", "nan,1", "1,0", "0.5,0.5", "0,1,",
                          " 0,1", "0, 1", "0;1", "", ",", "0,1e999", "0x1,2"}) {
    try {
      parse_lo_hi(bad, "--noise-range");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage) << bad;
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("--noise-range '", 0), 0u) << m;
      EXPECT_LT(m.size(), 160u) << m;
    }
  }
}

}  // namespace
}  // namespace inkgen
