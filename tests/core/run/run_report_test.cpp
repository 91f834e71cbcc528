// The run page's data (what report.html shows) from a run folder, without a browser.
#include "inkgen/run/run_report.hpp"

#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A run folder as a run writes it, with empty PNGs (the page only names them).
void make_run(const fs::path& dir, const json& record, int depth,
              const std::vector<std::string>& kinds = {"start", "result", "diff"}) {
  fs::create_directories(dir);
  test::write_text(dir / "run.json", record.dump(2));
  for (const auto& start : record["starts"]) {
    for (const auto& kind : kinds) {
      const fs::path folder = dir / start["folder"].get<std::string>() / kind;
      fs::create_directories(folder);
      for (int z = 0; z < depth; ++z)
        test::write_text(folder / ((z < 10 ? "0" : "") + std::to_string(z) + ".png"), "");
    }
  }
}

json segment_start(const std::string& folder, int z0, bool reversed) {
  json source = {{"kind", "segment"},
                 {"segment_name", "seg-7"},
                 {"crop", {16, 32, 80, 96}},
                 {"z0", z0},
                 {"layers", {z0, z0 + 11}}};
  if (reversed) source["stored_layers"] = {64 - 1 - z0, 64 - 1 - z0 - 11};
  return {{"folder", folder},
          {"status", "done"},
          {"source", source},
          {"start_score", {{"logit", -2.0}, {"probability", 0.12}}},
          {"final_score", {{"logit", 2.2}, {"probability", 0.9}}},
          {"depth_profile", json::array({0.0, 0.1, 0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0})},
          {"diff", {{"scale", 0.07}, {"max_added", 0.07}, {"max_removed", 0.0}}},
          {"trace", {{"probability", {0.12, 0.5, 0.9}}, {"logit", {-2.0, 0.0, 2.2}}}}};
}

json record_of(const json& starts) {
  return {{"status", "done"},
          {"mode", {{"direction", "maximize"}, {"source", "segment"}}},
          {"model", {{"name", "tiny"}}},
          {"device", "cpu"},
          {"seed", 3},
          {"options", {{"steps", 200}, {"lr", 0.002}}},
          {"starts", starts}};
}

TEST(RunReport, SlicesAreLabelledWithTheSegmentsLayerNumbers) {
  test::TempDir tmp;
  make_run(tmp.path(), record_of(json::array({segment_start(".", 29, false)})), 12);
  const json data = run_report_data(tmp.path());
  ASSERT_EQ(data["starts"].size(), 1u);
  const json& s = data["starts"][0];
  EXPECT_EQ(s["depth"], 12);
  EXPECT_EQ(s["layers"][0], "layer 29");
  EXPECT_EQ(s["layers"][11], "layer 40");
  EXPECT_EQ(s["label"], "seg-7 16,32,80,96");
  ASSERT_EQ(s["images"].size(), 3u);  // no attribution
  EXPECT_EQ(s["images"][0]["kind"], "start");
  EXPECT_EQ(s["images"][2]["kind"], "diff");
  EXPECT_EQ(s["images"][2]["files"][3], "./diff/03.png");
  EXPECT_EQ(s["diff"]["scale"], 0.07);
  EXPECT_EQ(data["mode"], "maximize from segment");
  EXPECT_EQ(data["options"]["steps"], 200);
}

TEST(RunReport, ReversedLayersNameTheFileReadAndNoiseStartsTheirWindowLayer) {
  test::TempDir tmp;
  json noise = {{"folder", "001"}, {"status", "done"}, {"source", {{"kind", "noise"}}}};
  make_run(tmp.path(), record_of(json::array({segment_start("000", 4, true), noise})), 12);
  const json data = run_report_data(tmp.path());
  ASSERT_EQ(data["starts"].size(), 2u);
  EXPECT_EQ(data["starts"][0]["layers"][0], "layer 4 (file 59)");
  EXPECT_EQ(data["starts"][0]["layers"][2], "layer 6 (file 57)");
  EXPECT_EQ(data["starts"][0]["images"][0]["files"][0], "000/start/00.png");
  EXPECT_EQ(data["starts"][1]["layers"][5], "window layer 5");
  EXPECT_EQ(data["starts"][1]["label"], "noise start 1");
}

TEST(RunReport, AStartWithoutSlicesHasNoImages) {
  test::TempDir tmp;
  json failed = segment_start(".", 0, false);
  failed["status"] = "failed";
  make_run(tmp.path(), record_of(json::array({failed})), 0);
  const json data = run_report_data(tmp.path());
  EXPECT_EQ(data["starts"][0]["depth"], 0);
  EXPECT_TRUE(data["starts"][0]["images"].empty());
}

TEST(RunReport, RefusesAFolderWithoutARunRecord) {
  test::TempDir tmp;
  try {
    run_report_data(tmp.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input);
    EXPECT_NE(std::string(e.what()).find("no run.json"), std::string::npos) << e.what();
  }
  test::write_text(tmp / "run.json", R"({"status": "done"})");
  EXPECT_THROW(run_report_data(tmp.path()), Error);
  test::write_text(tmp / "run.json", "{not json");
  EXPECT_THROW(run_report_data(tmp.path()), Error);
  // A field of another type than inkgen writes is the folder's problem, not a bug in inkgen.
  test::write_text(tmp / "run.json", R"({"status": 5, "starts": []})");
  EXPECT_THROW(run_report_data(tmp.path()), Error);
}

TEST(RunReport, ThePageEmbedsItsDataSoThatNoStringEndsTheScript) {
  const json data = {{"options", {{"name", "</script><b>x</b>"}}}, {"starts", json::array()}};
  const std::string html = run_report_html(data);
  EXPECT_EQ(html.find("/*DATA*/"), std::string::npos);
  EXPECT_EQ(html.find("</script><b>"), std::string::npos);
  EXPECT_NE(html.find(R"(<\/script><b>x<\/b>)"), std::string::npos);
  EXPECT_EQ(script_json(json("a</b")), R"("a<\/b")");
}

TEST(RunReport, WritesReportHtmlBesideTheRecord) {
  test::TempDir tmp;
  make_run(tmp.path(), record_of(json::array({segment_start(".", 29, false)})), 12);
  const fs::path page = write_run_report(tmp.path());
  EXPECT_EQ(page, tmp.path() / "report.html");
  const std::string html = test::read_file(page);
  EXPECT_NE(html.find("\"layer 40\""), std::string::npos);
  EXPECT_NE(html.find("<input id=\"slider\""), std::string::npos);
}

}  // namespace
}  // namespace inkgen
