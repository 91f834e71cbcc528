// `inkgen bench`: each peer measured beside inkgen and reported, a peer that cannot run on this
// torch said so without failing the bench, a broken peer or an unknown one refused. The figures
// themselves are not checked here (timings on a shared machine): only that they are there.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;

// A tiny run of the bundled model: the loops' speed is not the point.
std::vector<std::string> bench(const std::string& peers, const std::string& python) {
  return {"bench", "--workloads", "bundled", "--steps",   "2",     "--batch",
          "8",     "--warmup",    "0",       "--repeats", "2",     "--peers",
          peers,   "--python",    python,    "--quiet",   "--json"};
}

TEST(CliBench, ReportsEachPeerBesideInkgenAndTheBestOfThem) {
  const auto r = run_inkgen(bench("as-written,eager", INKGEN_PYTHON));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["workloads"].size(), 1u);
  const auto& w = j["workloads"][0];
  EXPECT_GT(w["inkgen"]["crop_steps_per_second"].get<double>(), 0.0);
  EXPECT_EQ(w["inkgen"]["runs"].size(), 2u);
  // Memory counts as growing only when it grew in most runs (a leak grows every run; the heap
  // settles in a jump or two): one run of two under the 20 MiB allowance means flat.
  const auto& growth = w["inkgen"]["memory_growth_mib"];
  ASSERT_EQ(growth.size(), 2u);
  if (std::min(growth[0].get<double>(), growth[1].get<double>()) < 20.0)
    EXPECT_TRUE(w["inkgen"]["memory_flat"].get<bool>());
  // The bundled model's stem has inkgen's own input gradient, so the same loop with LibTorch
  // running everything is measured beside it and the gain is what the two give.
  const auto& own = w["inkgen"]["own_kernels"];
  EXPECT_EQ(own["single_channel_convolutions"], 1);
  EXPECT_EQ(own["window_max_pools"], 0);
  const auto& plain = w["inkgen"]["with_libtorch_kernels"];
  EXPECT_EQ(plain["runs"].size(), 2u);
  EXPECT_NEAR(own["gain"].get<double>(),
              w["inkgen"]["crop_steps_per_second"].get<double>() /
                  plain["crop_steps_per_second"].get<double>(),
              1e-9);
  // The bench's threads are all the CPUs; with more than one, a batch of 8 is split in parts
  // (inkgen's default), and the whole batch is measured beside it.
  if (j["threads"].get<int>() > 1) {
    const auto& whole = w["inkgen"]["whole_batch"];
    EXPECT_EQ(whole["runs"].size(), 2u);
    EXPECT_NEAR(w["inkgen"]["split_batch"]["gain"].get<double>(),
                w["inkgen"]["crop_steps_per_second"].get<double>() /
                    whole["crop_steps_per_second"].get<double>(),
                1e-9);
  }
  const auto one =
      run_inkgen({"--threads", "1", "bench", "--workloads", "bundled", "--steps", "1", "--batch",
                  "8", "--warmup", "0", "--repeats", "1", "--peers", "", "--quiet", "--json"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_FALSE(nlohmann::json::parse(one.out)["workloads"][0]["inkgen"].contains("whole_batch"));
  double best = 0;
  for (const char* name : {"as-written", "eager"}) {
    const auto& p = w["peers"][name];
    ASSERT_TRUE(p["available"].get<bool>()) << name;
    EXPECT_EQ(p["runs"].size(), 2u) << name;
    const double speed = p["crop_steps_per_second"];
    EXPECT_GT(speed, 0.0) << name;
    EXPECT_NEAR(p["ratio"].get<double>(),
                w["inkgen"]["crop_steps_per_second"].get<double>() / speed, 1e-9);
    EXPECT_FALSE(p["torch_version"].get<std::string>().empty());
    best = std::max(best, speed);
  }
  EXPECT_FALSE(w["peers"].contains("compiled"));
  EXPECT_DOUBLE_EQ(w["peers"][w["best_peer"].get<std::string>()]["crop_steps_per_second"], best);
  EXPECT_NEAR(w["ratio_to_best_peer"].get<double>(),
              w["inkgen"]["crop_steps_per_second"].get<double>() / best, 1e-9);
}

TEST(CliBench, APeerThisTorchCannotRunIsReportedAndTheBenchGoesOn) {
  test::TempDir tmp;
  const auto script = tmp / "no_compile.py";
  test::write_text(
      script,
      "import sys\n"
      "print('reference_loop: torch 1.0 cannot convert TorchScript', file=sys.stderr)\n"
      "sys.exit(3)\n");
  auto args = bench("compiled", "/usr/bin/python3");
  args.insert(args.end(), {"--reference", script.string()});
  const auto r = run_inkgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto w = nlohmann::json::parse(r.out)["workloads"][0];
  EXPECT_FALSE(w["peers"]["compiled"]["available"].get<bool>());
  EXPECT_EQ(w["peers"]["compiled"]["why"], "reference_loop: torch 1.0 cannot convert TorchScript");
  EXPECT_FALSE(w.contains("best_peer"));
  EXPECT_GT(w["inkgen"]["crop_steps_per_second"].get<double>(), 0.0);
}

TEST(CliBench, ABrokenPeerOrAnUnknownOneIsRefused) {
  test::TempDir tmp;
  const auto script = tmp / "broken.py";
  test::write_text(script, "raise SystemExit('boom')\n");
  auto args = bench("eager", "/usr/bin/python3");
  args.insert(args.end(), {"--reference", script.string()});
  test::expect_one_line_error(run_inkgen(args), 2, "--python");
  test::expect_one_line_error(run_inkgen(bench("jax", "/usr/bin/python3")), 2,
                              "unknown peer 'jax'");
}

}  // namespace
}  // namespace inkgen
