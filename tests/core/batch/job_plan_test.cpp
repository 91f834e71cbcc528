#include "inkgen/batch/job_plan.hpp"

#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <tuple>

#include "inkgen/common/error.hpp"
#include "inkgen/options/option_table.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::test_model;

class BatchJobPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_segment(tmp_ / "segA", test::random_volume(8, 40, 36, 1, 10000, 40000));
    test::make_segment(tmp_ / "segB", test::random_volume(8, 40, 36, 2, 10000, 40000));
  }
  JobPlan plan(const std::string& text, JobRequest defaults = {}) {
    defaults.values.emplace("model", test_model("tiny-map.pt").string());
    return plan_jobs(parse_jobs_text(text, "jobs.jsonl"), defaults, {"jobs.jsonl", tmp_.path()},
                     models_);
  }
  // The message of the planning error, checking its class.
  std::string error_of(const std::string& text, ErrorKind kind = ErrorKind::input,
                       JobRequest defaults = {}) {
    try {
      plan(text, defaults);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for " << text;
    return "";
  }
  test::TempDir tmp_;
  ModelCache models_{c10::Device(c10::kCPU)};
};

TEST_F(BatchJobPlan, JobsComeInLineThenCropOrderWithTheirFolders) {
  const auto p = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", [16, 16, 32, 32]]})"
      "\n"
      R"({"mode": "minimize", "source": "noise", "count": 2, "seed": 5})"
      "\n"
      R"({"mode": "minimize", "segment": "segB", "crops": ["0,0,16,16"], "name": "tv", "tv": 0.1})"
      "\n");
  ASSERT_EQ(p.jobs.size(), 5u);
  const std::vector<std::string> keys{
      "segA/0_0_16_16/maximize-segment", "segA/16_16_32_32/maximize-segment",
      "noise/seed-5-0/minimize-noise", "noise/seed-5-1/minimize-noise",
      "segB/0_0_16_16/minimize-segment-tv"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(p.jobs[i].key, keys[i]);
    EXPECT_EQ(p.jobs[i].index, i);
  }
  EXPECT_EQ(p.jobs[0].line, 1);
  EXPECT_EQ(p.jobs[4].line, 3);
  EXPECT_EQ(p.jobs[0].segment, tmp_ / "segA");  // relative to the JOBS file's folder
  EXPECT_EQ(p.jobs[3].noise_index, 1);
  EXPECT_EQ(p.jobs[4].optimize.regularizers.tv, 0.1);
  EXPECT_FALSE(p.jobs[0].z0.has_value());                       // the card's, when the job runs
  EXPECT_EQ(p.jobs[0].optimize.steps, 200);                     // the single commands' defaults
  EXPECT_EQ(p.jobs[0].optimize.rule.kind, OptimizerKind::ngd);  // the minimal recipe
  // The crops of one line share a group; other lines do not.
  EXPECT_EQ(p.jobs[0].group, p.jobs[1].group);
  EXPECT_NE(p.jobs[0].group, p.jobs[4].group);
  // The same text plans the same jobs.
  const auto again = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", [16, 16, 32, 32]]})"
      "\n"
      R"({"mode": "minimize", "source": "noise", "count": 2, "seed": 5})"
      "\n"
      R"({"mode": "minimize", "segment": "segB", "crops": ["0,0,16,16"], "name": "tv", "tv": 0.1})"
      "\n");
  for (std::size_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(again.jobs[i].fingerprint, p.jobs[i].fingerprint);
}

TEST_F(BatchJobPlan, LinesOverrideTheCommandLineWhichOverridesTheDefaults) {
  JobRequest d;
  d.values["mode"] = "minimize";
  d.values["steps"] = 7;
  d.values["lr"] = 0.5;
  d.values["crops"] = nlohmann::json::array({"0,0,16,16"});
  const auto p = plan("segA\nsegB\n", d);
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.jobs[1].key, "segB/0_0_16_16/minimize-segment");
  EXPECT_EQ(p.jobs[1].optimize.steps, 7);
  const auto q = plan(R"({"segment": "segA", "steps": 9, "z0": 1})", d);
  EXPECT_EQ(q.jobs[0].optimize.steps, 9);
  EXPECT_EQ(q.jobs[0].z0, 1);
  const auto f = plan(
      R"({"segment": "segA", "param": "fourier", "robust": "light", "stop-at": 0.9, "precision": "bf16", "no-freeze": true})",
      d);
  EXPECT_EQ(f.jobs[0].optimize.param, ParamKind::fourier);
  EXPECT_EQ(f.jobs[0].optimize.fourier_range, FourierRange::clamp_around_start);
  EXPECT_EQ(f.jobs[0].optimize.regularizers.robust, Robustness::light);
  EXPECT_EQ(f.jobs[0].optimize.stop_at, 0.9);
  EXPECT_EQ(f.jobs[0].model.precision, Precision::bf16);
  EXPECT_EQ(f.jobs[0].model.freeze, Freeze::no);
  EXPECT_NE(f.jobs[0].model.key, p.jobs[0].model.key);  // loaded as another model
  EXPECT_EQ(q.jobs[0].optimize.rule.lr, 0.5);
}

TEST_F(BatchJobPlan, AutoCropsTileTheMaskAtTheModelsSize) {
  cv::Mat mask(40, 36, CV_8UC1, cv::Scalar(255));
  mask.at<unsigned char>(20, 20) = 0;  // knocks out the crop 16..32 x 16..32
  cv::imwrite((tmp_ / "segA" / "segA_mask.png").string(), mask);
  const auto p = plan(R"({"mode": "maximize", "segment": "segA", "crops": "auto"})");
  // tiny-map takes 16x16: a 2x2 grid on 36x40, less the one with the hole.
  ASSERT_EQ(p.jobs.size(), 3u);
  EXPECT_EQ(p.jobs[0].crop, (Crop{0, 0, 16, 16}));
  EXPECT_EQ(p.jobs[1].crop, (Crop{16, 0, 32, 16}));
  EXPECT_EQ(p.jobs[2].crop, (Crop{0, 16, 16, 32}));
  const auto strided =
      plan(R"({"mode": "maximize", "segment": "segB", "crops": "auto", "stride": 4})");
  EXPECT_EQ(strided.jobs.size(), 6u * 7u);
  const auto sampled = plan(
      R"({"mode": "maximize", "segment": "segB", "crops": "auto", "stride": 4, "sample": 5, "sample-seed": 1})");
  EXPECT_EQ(sampled.jobs.size(), 5u);
  EXPECT_EQ(models_.loads(), 1u);  // one model, loaded once
}

TEST_F(BatchJobPlan, ASegmentThatCannotBeTiledBecomesOneFailingJob) {
  const auto p =
      plan(R"({"mode": "maximize", "segment": "missing", "crops": "auto"})"
           "\n"
           R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"]})"
           "\n"
           R"({"mode": "maximize", "segment": "segB", "crops": "auto", "model": "nope.pt"})");
  ASSERT_EQ(p.jobs.size(), 3u);
  EXPECT_EQ(p.jobs[0].key, "missing/auto/maximize-segment");
  ASSERT_TRUE(p.jobs[0].failure.has_value());
  EXPECT_EQ(p.jobs[0].failure->kind, ErrorKind::input);
  EXPECT_FALSE(p.jobs[1].failure.has_value());
  ASSERT_TRUE(p.jobs[2].failure.has_value());
  EXPECT_EQ(p.jobs[2].failure->kind, ErrorKind::model);
}

TEST_F(BatchJobPlan, BadValuesAreRefusedNamingTheLineAndOption) {
  const std::string ok = R"({"mode": "maximize", "source": "noise"})"
                         "\n";
  const auto check = [&](const std::string& extra, const std::string& needle) {
    const std::string e =
        error_of(ok + R"({"mode": "maximize", "source": "noise", )" + extra + "}");
    EXPECT_NE(e.find("jobs.jsonl line 2: "), std::string::npos) << extra << " -> " << e;
    EXPECT_NE(e.find(needle), std::string::npos) << extra << " -> " << e;
  };
  check(R"("steps": 0)", "--steps");
  check(R"("steps": -5)", "--steps");
  check(R"("lr": "nan")", "--lr");
  check(R"("lr": "inf")", "--lr");
  check(R"("lr": -1)", "--lr");
  check(R"("decay": 1)", "--decay");
  check(R"("optimizer": "lbfgs")", "lbfgs");
  check(R"("noise": "pink")", "pink");
  check(R"("noise-range": "0.5,0.2")", "--noise-range");
  check(R"("jitter": -1)", "--jitter");
  check(R"("blur-sigma": 0)", "--blur-sigma");
  check(R"("input-shape": "1,2,3")", "1,2,3");
  check(R"("scale": "raw17")", "raw17");
  check(R"("output-kind": "votes")", "votes");
  check(R"("z0": -1)", "--z0");
  check(R"("count": 0)", "count");
  check(R"("name": "../x")", "name");
  check(R"("segment": "segA")", "belong to segment jobs");
  check(R"("stride": 4)", "\"crops\": \"auto\"");
  check(R"("param": "wavelet")", "wavelet");
  check(R"("robust": "wild")", "wild");
  check(R"("stop-at": 1.5)", "--stop-at");
  check(R"("diversity": -1)", "--diversity");
  check(R"("precision": "fp8")", "fp8");
  check(R"("kernels": "onednn")", "--kernels 'onednn' is unknown; use inkgen or libtorch");
  EXPECT_NE(error_of(R"({"source": "noise"})").find("no mode"), std::string::npos);
  EXPECT_NE(error_of(R"({"mode": "up", "source": "noise"})").find("\"up\""), std::string::npos);
  EXPECT_NE(error_of(R"({"mode": "maximize", "segment": "segA"})").find("\"crops\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"mode": "maximize", "source": "segment"})").find("\"segment\""),
            std::string::npos);
}

TEST_F(BatchJobPlan, ABadCommandLineDefaultIsAUsageError) {
  JobRequest d;
  d.values["steps"] = 0;
  const std::string e = error_of(R"({"mode": "maximize", "source": "noise"})", ErrorKind::usage, d);
  EXPECT_NE(e.find("--steps"), std::string::npos) << e;
  EXPECT_EQ(e.find("line"), std::string::npos) << e;
}

TEST_F(BatchJobPlan, TwoJobsWritingOneFolderAreRefusedUnlessNamed) {
  const std::string a = R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"]})";
  const std::string e =
      error_of(a + "\n\n" +
               R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "steps": 9})");
  EXPECT_NE(e.find("lines 1 and 3 both write segA/0_0_16_16/maximize-segment"), std::string::npos)
      << e;
  EXPECT_NE(e.find("\"name\""), std::string::npos) << e;
  EXPECT_NO_THROW(plan(
      a + "\n" +
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "steps": 9, "name": "s9"})"));
  // A crop listed twice on one line, and noise starts of two lines with one seed.
  EXPECT_NE(
      error_of(R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", "0,0,16,16"]})")
          .find("line 1: \"crops\" 0,0,16,16 is given twice"),
      std::string::npos);
  EXPECT_NE(error_of("{\"mode\": \"maximize\", \"source\": \"noise\"}\n{\"mode\": \"maximize\", "
                     "\"source\": \"noise\", \"model\": \"x.pt\"}")
                .find("noise/seed-0-0/maximize-noise"),
            std::string::npos);
  // Two segments of one name would share a folder.
  test::make_segment(tmp_ / "other" / "segA", test::random_volume(8, 40, 36, 3));
  EXPECT_NE(error_of(a + "\n" +
                     R"({"mode": "minimize", "segment": "other/segA", "crops": ["0,0,16,16"]})")
                .find("has the name 'segA' of another segment"),
            std::string::npos);
}

TEST_F(BatchJobPlan, TheFingerprintFollowsWhatShapesTheResult) {
  const auto p = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "steps": 5})"
      "\n"
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "steps": 6, "name": "b"})"
      "\n");
  const auto moved = plan(
      "# a new first line moves the job\n"
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "steps": 5, "report-every": 3})"
      "\n");
  EXPECT_NE(p.jobs[0].fingerprint, p.jobs[1].fingerprint);
  EXPECT_EQ(p.jobs[0].fingerprint, moved.jobs[0].fingerprint);
}

// Reversed layers are another start, so another result; a depth check only adds scores.
TEST_F(BatchJobPlan, LayerOrderShapesTheResultAndTheDepthCheckDoesNot) {
  const auto p = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"]})"
      "\n"
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "reverse-layers": true, "name": "r"})"
      "\n");
  const auto r = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "reverse-layers": true, "name": "r"})"
      "\n");
  const auto checked =
      plan(R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "depth-check": 3})"
           "\n");
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.jobs[0].layer_order, LayerOrder::as_stored);
  EXPECT_EQ(p.jobs[1].layer_order, LayerOrder::reversed);
  EXPECT_EQ(checked.jobs[0].depth_check, 3);
  EXPECT_EQ(p.jobs[1].options.at("reverse_layers"), true);
  // Named alike, reversed or not: the order alone tells the fingerprints apart.
  const auto named =
      plan(R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "name": "r"})"
           "\n");
  EXPECT_NE(named.jobs[0].fingerprint, r.jobs[0].fingerprint);
  EXPECT_EQ(p.jobs[0].fingerprint, checked.jobs[0].fingerprint);
}

// Key by key: a JOBS key that shapes a job's result changes its fingerprint (so a resumed batch
// reruns the job), a key that only decides which jobs exist or how they report does not (so a
// resume does not redo finished work), and a key that names the job's folder makes another job.
// Every key of the table must be listed here: a new option has to be sorted before it can land.
TEST_F(BatchJobPlan, EachKeyChangesTheFingerprintExactlyWhenItShapesTheResult) {
  enum class Effect { shapes, not_shapes, other_job };
  const std::string listed = R"("mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"])";
  const std::string tiled = R"("mode": "maximize", "segment": "segA", "crops": "auto")";
  const std::string noise = R"("mode": "maximize", "source": "noise")";
  const std::string features = R"("mode": "maximize", "source": "noise", "model": ")" +
                               test_model("tiny-features.pt").string() + R"(")";
  const std::string seeded = listed + R"(, "optimizer": "seed")";
  const std::string blurred = listed + R"(, "blur-every": 5)";
  const std::string fourier = listed + R"(, "param": "fourier")";
  const std::string atlas = features + R"(, "layer": "edges")";
  const std::string scalar = R"(")" + test_model("tiny-scalar.pt").string() + R"(")";
  const std::vector<std::tuple<std::string, std::string, std::string, Effect>> cases{
      {"mode", listed, R"("minimize")", Effect::other_job},
      {"source", noise, R"("segment")", Effect::other_job},
      {"segment", listed, R"("segB")", Effect::other_job},
      {"crops", listed, R"(["16,16,32,32"])", Effect::other_job},
      {"name", listed, R"("b")", Effect::other_job},
      {"stride", tiled, "8", Effect::not_shapes},
      {"sample", tiled, "2", Effect::not_shapes},
      {"sample-seed", tiled, "9", Effect::not_shapes},
      {"count", noise, "3", Effect::not_shapes},
      {"model", noise, scalar, Effect::shapes},
      {"input-shape", noise, R"("1,6,32,32")", Effect::shapes},
      {"scale", listed, R"("min(raw16>>8,255)/255")", Effect::shapes},
      {"range", listed, R"("0,0.5")", Effect::shapes},
      {"output-kind", noise, R"("probability")", Effect::shapes},
      {"precision", listed, R"("bf16")", Effect::shapes},
      {"freeze", listed, "false", Effect::shapes},
      {"kernels", listed, R"("libtorch")", Effect::shapes},
      {"z0", listed, "1", Effect::shapes},
      {"reverse-layers", listed, "true", Effect::shapes},
      {"level", listed, "1", Effect::shapes},
      {"depth-check", listed, "2", Effect::not_shapes},
      {"recipe", listed, R"("classic")", Effect::shapes},
      {"steps", listed, "9", Effect::shapes},
      {"lr", listed, "0.5", Effect::shapes},
      {"optimizer", listed, R"("adam")", Effect::shapes},
      {"decay", seeded, "0.5", Effect::shapes},
      {"seed", listed, "7", Effect::shapes},
      {"noise", noise, R"("gaussian")", Effect::shapes},
      {"noise-range", noise, R"("0.1,0.9")", Effect::shapes},
      {"clamp", listed, "false", Effect::shapes},
      {"l2", listed, "0.1", Effect::shapes},
      {"tv", listed, "0.1", Effect::shapes},
      {"jitter", listed, "1", Effect::shapes},
      {"blur-every", listed, "5", Effect::shapes},
      {"blur-sigma", blurred, "1", Effect::shapes},
      {"report-every", listed, "3", Effect::not_shapes},
      {"save-every", listed, "2", Effect::not_shapes},
      {"objective", listed, R"("logit")", Effect::shapes},
      {"layer", features, R"("pooled")", Effect::other_job},
      {"channels", atlas, R"("0")", Effect::not_shapes},
      {"param", listed, R"("fourier")", Effect::shapes},
      {"fourier-decay", fourier, "2", Effect::shapes},
      {"robust", listed, R"("light")", Effect::shapes},
      {"diversity", listed, "0.1", Effect::shapes},
      {"stop-at", listed, R"("off")", Effect::shapes},
      {"grad-blur", listed, "0.5", Effect::shapes},
      {"change-sign", listed, R"("up")", Effect::shapes},
      {"grad-threshold", listed, "0.3", Effect::shapes},
      // The parts' convolutions see other batch sizes: the same result to rounding, not bits.
      {"split-batch", listed, "false", Effect::shapes},
  };
  std::set<std::string> sorted;
  for (const auto& [key, base, value, effect] : cases) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(sorted.insert(key).second) << "listed twice";
    const nlohmann::json line = nlohmann::json::parse("{" + base + "}");
    nlohmann::json changed = line;
    changed[key] = nlohmann::json::parse(value);
    // A segment start needs its segment and crops.
    if (key == "source") changed.update({{"segment", "segA"}, {"crops", {"0,0,16,16"}}});
    const auto before = plan(line.dump() + "\n");
    const auto after = plan(changed.dump() + "\n");
    ASSERT_FALSE(before.jobs.empty());
    ASSERT_FALSE(after.jobs.empty());
    if (effect == Effect::other_job) {
      EXPECT_NE(before.jobs[0].key, after.jobs[0].key);
      continue;
    }
    // The jobs both plans hold (a sample or another stride plans other crops too).
    std::map<std::string, std::string> fingerprints;
    for (const auto& job : before.jobs)
      fingerprints[job.key] = job.fingerprint;
    int compared = 0;
    for (const auto& job : after.jobs) {
      const auto it = fingerprints.find(job.key);
      if (it == fingerprints.end()) continue;
      ++compared;
      if (effect == Effect::shapes) {
        EXPECT_NE(it->second, job.fingerprint) << job.key;
      } else {
        EXPECT_EQ(it->second, job.fingerprint) << job.key;
      }
    }
    EXPECT_GT(compared, 0) << "no job in common";
  }
  for (const auto& option : option_table()) {
    if (option.scopes & in_jobs) EXPECT_EQ(sorted.count(option.key), 1u) << option.key;
  }
}

}  // namespace
}  // namespace inkgen
