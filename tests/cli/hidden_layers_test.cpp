// Hidden-layer objectives from the command line: info lists the layers, maximize and batch take
// channel, neuron and direction terms, and a wrong layer is a one-line usage error.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "inkgen/jobs/manifest.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::read_json;
using test::run_inkgen;
using test::test_model;

const std::string edge_model = test_model("tiny-features.pt").string();

TEST(CliHiddenLayers, InfoListsTheLayers) {
  const auto text = run_inkgen({"info", "--model", edge_model});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("layers      edges [2,6,16,16], pooled [2], output [1,4,4]"),
            std::string::npos)
      << text.out;
  const auto json = test::json_of(run_inkgen({"info", "--model", edge_model, "--json"}));
  EXPECT_EQ(json["layers"]["edges"], nlohmann::json::parse("[2,6,16,16]"));
  // The bundled model exposes its stages.
  const auto bundled = test::json_of(run_inkgen({"info", "--json"}));
  for (const char* stage : {"stem", "down1", "down2", "down3", "fuse", "output"})
    EXPECT_TRUE(bundled["layers"].contains(stage)) << stage;
  EXPECT_EQ(bundled["layers"]["down2"], nlohmann::json::parse("[32,10,16,16]"));
  const auto none = run_inkgen({"info", "--model", test_model("tiny-map.pt").string()});
  EXPECT_NE(none.out.find("layers      none"), std::string::npos) << none.out;
}

TEST(CliHiddenLayers, MaximizeAChannelRecordsTheObjectiveItRaised) {
  test::TempDir tmp;
  const auto r = run_inkgen({"maximize", "--from", "noise", "--model", edge_model, "--objective",
                             "channel:edges:0 - 0.1*logit", "--steps", "20", "--out",
                             (tmp / "run").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = read_json(tmp / "run" / "run.json");
  EXPECT_EQ(record["options"]["objective"], "channel:edges:0 - 0.1*logit");
  EXPECT_EQ(record["options"]["stop_at"], "off");  // no ink target for a hidden layer
  EXPECT_EQ(record["options"]["change_sign"], "both");
  const auto& o = record["starts"][0]["objective"];
  EXPECT_EQ(o["text"], "channel:edges:0 - 0.1*logit");
  // The default recipe's steps are small (a minimal change): 20 of them raise it a little.
  EXPECT_GT(o["final"].get<double>(), o["start"].get<double>() + 1e-3);
  EXPECT_EQ(record["starts"][0]["steps_done"], 20);
}

// A run whose objective cannot move (here a weight of 0; in practice a channel that is off
// everywhere for the start) says so instead of passing for a run that did nothing.
TEST(CliHiddenLayers, AnObjectiveThatCannotMoveIsNamedInAWarning) {
  test::TempDir tmp;
  const auto still =
      run_inkgen({"maximize", "--from", "noise", "--model", edge_model, "--objective",
                  "0*channel:edges:0", "--steps", "3", "--out", (tmp / "still").string()});
  ASSERT_EQ(still.exit_code, 0) << still.err;
  EXPECT_NE((still.out + still.err).find("did not change in 3 steps: its gradient is zero here"),
            std::string::npos)
      << still.out << still.err;
  const auto moved =
      run_inkgen({"maximize", "--from", "noise", "--model", edge_model, "--objective",
                  "channel:edges:0", "--steps", "3", "--out", (tmp / "moved").string()});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ((moved.out + moved.err).find("did not change"), std::string::npos) << moved.err;
}

TEST(CliHiddenLayers, AWrongLayerIsAOneLineErrorNamingTheLayers) {
  test::TempDir tmp;
  const auto r = run_inkgen({"maximize", "--from", "noise", "--model", edge_model, "--objective",
                             "channel:Mixed_4f:3", "--out", (tmp / "run").string()});
  test::expect_one_line_error(r, 2, "its layers are edges (2 channels), pooled (2 channels)");
  EXPECT_FALSE(std::filesystem::exists(tmp / "run" / "run.json"));
  const auto syntax =
      run_inkgen({"maximize", "--from", "noise", "--model", edge_model, "--objective",
                  "channel:edges", "--out", (tmp / "run2").string()});
  test::expect_one_line_error(syntax, 2, "channel:LAYER:K");
}

TEST(CliHiddenLayers, AJobsLineTakesAnObjectiveList) {
  test::TempDir tmp;
  test::write_text(tmp / "dir.json", "[0, 1]");
  test::write_text(
      tmp / "jobs.jsonl",
      "{\"mode\": \"maximize\", \"source\": \"noise\", \"count\": 1, \"name\": \"depth\", "
      "\"objective\": [{\"term\": \"channel:edges:0\"}]}\n"
      "{\"mode\": \"minimize\", \"source\": \"noise\", \"count\": 1, \"name\": \"x\", "
      "\"objective\": \"direction:edges:" +
          (tmp / "dir.json").string() + "\"}\n");
  const auto r =
      run_inkgen({"batch", (tmp / "jobs.jsonl").string(), "--out", (tmp / "out").string(),
                  "--model", edge_model, "--steps", "10", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = read_manifests(tmp / "out").lines;
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    ASSERT_EQ(line["status"], "done") << line.dump();
    const auto record = read_json(tmp / "out" / line["key"].get<std::string>() / "run.json");
    const auto& o = record["starts"][0]["objective"];
    const bool up = record["mode"]["direction"] == "maximize";
    EXPECT_EQ(o["text"], up ? "channel:edges:0" : "direction:edges:" + (tmp / "dir.json").string());
    if (up)
      EXPECT_GT(o["final"].get<double>(), o["start"].get<double>());
    else
      EXPECT_LT(o["final"].get<double>(), o["start"].get<double>());
  }
}

TEST(CliHiddenLayers, AnAtlasDrawsEachChannelsOwnFilter) {
  test::TempDir tmp;
  const auto r =
      run_inkgen({"atlas", "--model", edge_model, "--layer", "edges", "--recipe", "classic",
                  "--steps", "40", "--out", (tmp / "atlas").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_regular_file(tmp / "atlas" / "atlas.png"));
  const auto record = read_json(tmp / "atlas" / "run.json");
  EXPECT_EQ(record["options"]["layer"], "edges");
  EXPECT_EQ(record["options"]["channels"], "all");
  ASSERT_EQ(record["starts"].size(), 2u);
  for (int k = 0; k < 2; ++k) {
    const auto& s = record["starts"][k];
    EXPECT_EQ(s["objective"]["text"], "channel:edges:" + std::to_string(k));
    // Channel 1 can reach 1/16 at most (the last column minus the first, over 16 columns).
    EXPECT_GT(s["objective"]["final"].get<double>(), s["objective"]["start"].get<double>() + 0.03);
    EXPECT_EQ(s["source"], record["starts"][0]["source"]);  // one start for every channel
  }
  // Channel 0 (the depth edge) changed the first and last layers alone; channel 1 (the x edge)
  // changed every layer alike.
  const auto p0 = record["starts"][0]["depth_profile"].get<std::vector<double>>();
  const auto p1 = record["starts"][1]["depth_profile"].get<std::vector<double>>();
  EXPECT_GT(p0[0], 100 * (p0[2] + 1e-9));
  EXPECT_GT(p0[5], 100 * (p0[3] + 1e-9));
  EXPECT_LT(*std::max_element(p1.begin(), p1.end()), 1.5 * *std::min_element(p1.begin(), p1.end()));

  // Only some channels; a wrong layer, channel or an --objective are one-line usage errors.
  const auto some = run_inkgen({"atlas", "--model", edge_model, "--layer", "edges", "--channels",
                                "1", "--steps", "2", "--out", (tmp / "some").string(), "--quiet"});
  ASSERT_EQ(some.exit_code, 0) << some.err;
  EXPECT_EQ(read_json(tmp / "some" / "run.json")["starts"].size(), 1u);
  test::expect_one_line_error(run_inkgen({"atlas", "--model", edge_model, "--layer", "nope",
                                          "--out", (tmp / "x").string()}),
                              2, "has no layer 'nope'; its layers are edges [2,6,16,16]");
  test::expect_one_line_error(run_inkgen({"atlas", "--model", edge_model, "--layer", "edges",
                                          "--channels", "2", "--out", (tmp / "x").string()}),
                              2, "--channels part '2' goes past the layer's last channel");
  test::expect_one_line_error(run_inkgen({"atlas", "--model", edge_model, "--layer", "edges",
                                          "--objective", "bce", "--out", (tmp / "x").string()}),
                              2, "drop the objective (--objective) or the layer (--layer)");
  EXPECT_FALSE(std::filesystem::exists(tmp / "x"));
}

}  // namespace
}  // namespace inkgen

namespace inkgen {
namespace {

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// In a batch an atlas is a JOBS line with "layer": one job per channel (so it resumes and
// shards like any job), its atlas.png drawn once every channel is done, and each channel's run
// the one `inkgen atlas` makes.
TEST(CliHiddenLayers, ABatchAtlasLineRunsAJobPerChannelAndDrawsTheAtlas) {
  test::TempDir tmp;
  test::write_text(
      tmp / "jobs.jsonl",
      "{\"layer\": \"edges\", \"source\": \"noise\"}\n"
      "{\"layer\": \"edges\", \"channels\": \"1\", \"source\": \"noise\", \"seed\": 3, "
      "\"name\": \"x\"}\n");
  const auto batch = [&](const std::string& out, const std::vector<std::string>& more) {
    std::vector<std::string> args{"batch",    (tmp / "jobs.jsonl").string(),
                                  "--out",    (tmp / out).string(),
                                  "--model",  edge_model,
                                  "--recipe", "classic",
                                  "--steps",  "40",
                                  "--batch",  "2",
                                  "--json"};
    args.insert(args.end(), more.begin(), more.end());
    return test::json_of(run_inkgen(args));
  };
  const auto full = batch("out", {});
  EXPECT_EQ(full["planned"], 3);
  EXPECT_EQ(full["done"], 3);
  ASSERT_EQ(full["atlases"].size(), 2u) << full.dump();
  const auto atlas = tmp / "out" / "noise" / "seed-0-0" / "atlas-edges";
  const auto named = tmp / "out" / "noise" / "seed-3-0" / "atlas-edges-x";
  EXPECT_TRUE(std::filesystem::is_regular_file(atlas / "atlas.png"));
  EXPECT_TRUE(std::filesystem::is_regular_file(named / "atlas.png"));
  EXPECT_TRUE(std::filesystem::is_directory(named / "channel-1"));
  EXPECT_FALSE(std::filesystem::exists(named / "channel-0"));
  for (int k = 0; k < 2; ++k) {
    const auto record = read_json(atlas / ("channel-" + std::to_string(k)) / "run.json");
    const auto& o = record["starts"][0]["objective"];
    EXPECT_EQ(o["text"], "channel:edges:" + std::to_string(k));
    EXPECT_EQ(record["options"]["objective"], "channel:edges:" + std::to_string(k));
    EXPECT_EQ(record["options"]["layer"], "edges");
    EXPECT_GT(o["final"].get<double>(), o["start"].get<double>() + 0.03);
  }
  for (const auto& line : read_manifests(tmp / "out").lines) {
    EXPECT_TRUE(line.contains("channel")) << line.dump();
    EXPECT_TRUE(line.contains("objective")) << line.dump();
  }

  // The single command on the same start draws the same channels, bit for bit.
  const auto single =
      run_inkgen({"atlas", "--model", edge_model, "--layer", "edges", "--recipe", "classic",
                  "--steps", "40", "--out", (tmp / "single").string(), "--quiet"});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  const auto record = read_json(tmp / "single" / "run.json");
  for (int k = 0; k < 2; ++k) {
    const auto folder = record["starts"][k]["folder"].get<std::string>();
    EXPECT_EQ(file_bytes(tmp / "single" / folder / "diff.tif"),
              file_bytes(atlas / ("channel-" + std::to_string(k)) / "diff.tif"))
        << "channel " << k;
  }

  // Resuming runs nothing and draws a missing atlas again from the runs on disk; one that is
  // newer than its jobs' records is left as it is (not read and drawn again).
  std::filesystem::remove(atlas / "atlas.png");
  const auto named_drawn = std::filesystem::last_write_time(named / "atlas.png");
  const auto again = batch("out", {});
  EXPECT_EQ(again["done"], 0);
  EXPECT_EQ(again["skipped"], 3);
  EXPECT_EQ(again["atlases"].size(), 2u) << again.dump();
  EXPECT_TRUE(std::filesystem::is_regular_file(atlas / "atlas.png"));
  EXPECT_EQ(std::filesystem::last_write_time(named / "atlas.png"), named_drawn);
  // A job's record written after its atlas: the atlas is drawn again.
  std::filesystem::last_write_time(named / "channel-1" / "run.json",
                                   named_drawn + std::chrono::seconds(5));
  batch("out", {});
  EXPECT_GT(std::filesystem::last_write_time(named / "atlas.png"), named_drawn);

  // Shards split an atlas's channels; the shard that completes an atlas draws it.
  const auto shard0 = batch("sharded", {"--shard", "0/2"});  // jobs 0 and 2
  EXPECT_EQ(shard0["done"], 2);
  ASSERT_EQ(shard0["atlases"].size(), 1u) << shard0.dump();  // the one-channel atlas
  EXPECT_FALSE(std::filesystem::exists(tmp / "sharded" / "noise" / "seed-0-0" / "atlas-edges" /
                                       "atlas.png"));
  const auto shard1 = batch("sharded", {"--shard", "1/2"});
  EXPECT_EQ(shard1["done"], 1);
  EXPECT_EQ(shard1["atlases"].size(), 2u);
  EXPECT_TRUE(std::filesystem::is_regular_file(tmp / "sharded" / "noise" / "seed-0-0" /
                                               "atlas-edges" / "atlas.png"));
}

TEST(CliHiddenLayers, ABadAtlasLineIsRefusedBeforeAnythingRuns) {
  test::TempDir tmp;
  const auto batch_of = [&](const std::string& line) {
    test::write_text(tmp / "jobs.jsonl", line + "\n");
    return run_inkgen({"batch", (tmp / "jobs.jsonl").string(), "--out", (tmp / "out").string(),
                       "--model", edge_model});
  };
  test::expect_one_line_error(batch_of("{\"layer\": \"nope\", \"source\": \"noise\"}"), 3,
                              "has no layer 'nope'; its layers are edges [2,6,16,16]");
  test::expect_one_line_error(
      batch_of("{\"layer\": \"edges\", \"channels\": \"0-5\", \"source\": \"noise\"}"), 3,
      "goes past the layer's last channel");
  test::expect_one_line_error(
      batch_of("{\"layer\": \"edges\", \"objective\": \"logit\", \"source\": \"noise\"}"), 3,
      "drop the objective");
  test::expect_one_line_error(
      batch_of("{\"layer\": \"edges\", \"mode\": \"minimize\", \"source\": \"noise\"}"), 3,
      "drop mode minimize or the layer");
  test::expect_one_line_error(batch_of("{\"layer\": \"a:b\", \"source\": \"noise\"}"), 3,
                              "is not a layer name");
  EXPECT_FALSE(std::filesystem::exists(tmp / "out" / "noise"));
}

}  // namespace
}  // namespace inkgen
