#include "inkgen/optimize/optimization.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/run/volume_metrics.hpp"
#include "noise_batch.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::test_model;

at::Tensor noise_batch(const InkModel& m, int n, std::uint64_t seed = 1) {
  return test::noise_batch(m, n, seed);
}

OptimizeOptions options(Direction d, int steps) {
  OptimizeOptions o;
  o.direction = d;
  o.steps = steps;
  return o;
}

TEST(Optimization, MaximizeRaisesAndMinimizeLowersTheScore) {
  for (const char* name : {"tiny-map.pt", "tiny-scalar.pt", "tiny-prob.pt"}) {
    const InkModel m = load_ink_model(test_model(name), {});
    const auto start = noise_batch(m, 2);
    const auto up = optimize_input(m, start, options(Direction::maximize, 40));
    const auto down = optimize_input(m, start, options(Direction::minimize, 40));
    for (int i = 0; i < 2; ++i) {
      EXPECT_GT(up.final_scores[i].logit, up.start_scores[i].logit + 0.01) << name;
      EXPECT_LT(down.final_scores[i].logit, down.start_scores[i].logit - 0.01) << name;
      EXPECT_GT(up.final_scores[i].probability, down.final_scores[i].probability) << name;
    }
    EXPECT_EQ(up.steps_done, 40);
    EXPECT_GT(up.step_seconds, 0.0);
    EXPECT_LE(up.step_seconds, up.seconds);
    ASSERT_EQ(up.trace.size(), 2u);
    EXPECT_EQ(up.trace[0].size(), 40u);
    EXPECT_FALSE(up.interrupted);
  }
}

TEST(Optimization, BceMovesTheCellsThatStillDisagree) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 1);
  auto o = options(Direction::maximize, 40);
  const auto by_logit = optimize_input(m, start, o);
  o.objective = ink_objective(Objective::bce);
  const auto by_bce = optimize_input(m, start, o);
  // The least convinced cell of the map: bce moved it further towards ink.
  const auto least = [&](const OptimizeResult& r) {
    return ink_maps(m, r.result).min().item<double>();
  };
  EXPECT_GT(least(by_bce), least(by_logit));
  EXPECT_GT(by_bce.final_scores[0].probability, by_bce.start_scores[0].probability);

  o.direction = Direction::minimize;
  const auto down = optimize_input(m, start, o);
  EXPECT_LT(down.final_scores[0].probability, down.start_scores[0].probability);
  EXPECT_FALSE(at::allclose(down.result, by_bce.result));
}

TEST(Optimization, ClampsToTheCardsRangeUnlessAskedNotTo) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});  // range 0 .. 200/255
  auto o = options(Direction::maximize, 60);
  o.rule.lr = 0.2;
  const auto clamped = optimize_input(m, noise_batch(m, 1), o);
  EXPECT_GE(clamped.result.min().item<double>(), 0.0);
  EXPECT_LE(clamped.result.max().item<double>(), 200.0 / 255.0 + 1e-6);
  o.clamp = false;
  const auto free = optimize_input(m, noise_batch(m, 1), o);
  EXPECT_TRUE(free.result.min().item<double>() < 0.0 ||
              free.result.max().item<double>() > 200.0 / 255.0 + 1e-3);
}

TEST(Optimization, SameSeedSameResultOtherSeedOther) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  auto o = options(Direction::maximize, 15);
  o.regularizers.jitter = 2;  // the seed drives the jitter
  o.seed = 9;
  const auto a = optimize_input(m, noise_batch(m, 1), o);
  const auto b = optimize_input(m, noise_batch(m, 1), o);
  EXPECT_TRUE(at::equal(a.result, b.result));
  o.seed = 10;
  EXPECT_FALSE(at::equal(a.result, optimize_input(m, noise_batch(m, 1), o).result));
}

TEST(Optimization, StartsInABatchDoNotInfluenceEachOther) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto batch = noise_batch(m, 3);
  const auto together = optimize_input(m, batch, options(Direction::maximize, 10));
  const auto alone = optimize_input(m, batch.narrow(0, 1, 1), options(Direction::maximize, 10));
  EXPECT_TRUE(at::allclose(together.result[1], alone.result[0], 1e-5, 1e-6));
}

TEST(Optimization, StrongL2PullStaysNearTheStart) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto start = noise_batch(m, 1);
  auto o = options(Direction::maximize, 50);
  const double free_move = (optimize_input(m, start, o).result - start).abs().mean().item<double>();
  o.regularizers.l2 = 1e6;
  const double pulled = (optimize_input(m, start, o).result - start).abs().mean().item<double>();
  EXPECT_LT(pulled, 0.2 * free_move);
}

TEST(Optimization, TotalVariationAndBlurSmoothTheResult) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = at::full(m.batch_shape(1), 0.4f);
  auto o = options(Direction::maximize, 60);
  const auto rough = optimize_input(m, start, o).result;
  o.regularizers.tv = 50.0;
  o.regularizers.blur_every = 5;
  o.regularizers.blur_sigma = 1.0;
  const auto smooth = optimize_input(m, start, o).result;
  const auto tv = [](const at::Tensor& v) { return total_variation_3d(v).item<double>(); };
  EXPECT_LT(tv(smooth), 0.5 * tv(rough));
}

TEST(Optimization, TheResearchScriptsRuleRuns) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  auto o = options(Direction::maximize, 5);
  o.rule.kind = OptimizerKind::seed;
  o.rule.lr = 1e4;
  o.rule.decay = 0.2;
  const auto r = optimize_input(m, noise_batch(m, 2), o);
  EXPECT_EQ(r.steps_done, 5);
  EXPECT_TRUE(at::isfinite(r.result).all().item<bool>());
}

// Unfrozen: a frozen module has no parameters, and the loop would check nothing. Catches steps
// that leave gradients on the weights or a graph on the result.
TEST(Optimization, KeepsNoGraphAcrossSteps) {
  LoadOptions unfrozen;
  unfrozen.freeze = Freeze::no;
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), unfrozen);
  const auto r = optimize_input(m, noise_batch(m, 1), options(Direction::maximize, 3));
  EXPECT_FALSE(r.result.requires_grad());
  EXPECT_FALSE(r.result.grad_fn());
  std::size_t parameters = 0;
  for (const auto& p : m.module.parameters()) {
    EXPECT_FALSE(p.grad().defined());
    ++parameters;
  }
  EXPECT_GT(parameters, 0u);
}

TEST(Optimization, StopsBetweenStepsWhenAsked) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  std::atomic<bool> stop{false};
  OptimizeCallbacks callbacks;
  callbacks.stop = &stop;
  callbacks.on_report = [&](const StepReport& r) {
    if (r.step >= 6) stop = true;
  };
  auto o = options(Direction::maximize, 1000);
  o.report_every = 3;
  const auto r = optimize_input(m, noise_batch(m, 1), o, callbacks);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.steps_done, 6);
  EXPECT_EQ(r.trace[0].size(), 6u);
  EXPECT_EQ(r.final_scores.size(), 1u);
}

TEST(Optimization, SnapshotsEveryKSteps) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  std::vector<int> steps;
  OptimizeCallbacks callbacks;
  callbacks.on_snapshot = [&](int step, const at::Tensor& v) {
    steps.push_back(step);
    EXPECT_EQ(v.sizes().vec(), m.batch_shape(2));
  };
  auto o = options(Direction::maximize, 10);
  o.save_every = 4;
  optimize_input(m, noise_batch(m, 2), o, callbacks);
  EXPECT_EQ(steps, (std::vector<int>{4, 8}));
}

TEST(Optimization, OutputTurningNanIsAModelError) {
  const InkModel m =
      load_ink_model(test_model("tiny-nan.pt"), {});  // NaN once the mean is below 0.45
  const auto start = at::full(m.batch_shape(1), 0.5f);
  auto o = options(Direction::minimize, 50);
  o.rule.lr = 0.05;
  try {
    optimize_input(m, start, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model);
    EXPECT_NE(std::string(e.what()).find("turned NaN"), std::string::npos) << e.what();
  }
}

TEST(Optimization, FourierAndRobustRunsRaiseTheScoreOnMapAndScalarModels) {
  for (const char* name : {"tiny-map.pt", "tiny-scalar.pt"}) {
    const InkModel m = load_ink_model(test_model(name), {});
    auto o = options(Direction::maximize, 60);
    o.param = ParamKind::fourier;
    o.regularizers.robust = Robustness::light;
    const auto r = optimize_input(m, noise_batch(m, 2), o);
    for (int i = 0; i < 2; ++i)
      EXPECT_GT(r.final_scores[i].logit, r.start_scores[i].logit + 0.01) << name;
    EXPECT_GE(r.result.min().item<double>(), m.card.range_lo);
    EXPECT_LE(r.result.max().item<double>(), m.card.range_hi + 1e-6);
    EXPECT_TRUE(at::allclose(r.start, noise_batch(m, 2)));
  }
}

TEST(Optimization, FourierChangesAreSmootherThanPixelChanges) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 1);
  auto o = options(Direction::maximize, 10);
  o.fourier_range = FourierRange::clamp_around_start;
  const auto pixel = optimize_input(m, start, o);
  o.param = ParamKind::fourier;
  o.fourier_decay = 1.5;
  const auto fourier = optimize_input(m, start, o);
  EXPECT_GT(low_frequency_fraction(fourier.result - start),
            2 * low_frequency_fraction(pixel.result - start));
}

TEST(Optimization, DiversityPushesTheStartsApart) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto one = noise_batch(m, 1);
  // The same start twice. Only something random per start can tell twins apart (a smooth
  // penalty has no gradient between identical changes): the robust transforms are drawn per start.
  const auto twins = at::cat({one, one});
  auto o = options(Direction::maximize, 30);
  o.regularizers.robust = Robustness::light;
  const auto alike = optimize_input(m, twins, o);
  o.regularizers.diversity = 10.0;
  const auto apart = optimize_input(m, twins, o);
  const auto similarity = [&](const OptimizeResult& r) {
    return diversity_penalty(r.result, twins).item<double>();
  };
  EXPECT_LT(similarity(apart), similarity(alike) - 0.2) << similarity(alike);
}

TEST(Optimization, StopsWhenEveryStartReachedTheGoal) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto start = noise_batch(m, 2);
  auto o = options(Direction::maximize, 5000);
  o.report_every = 1;
  o.rule.lr = 0.05;
  const double begin = std::max(
      optimize_input(m, start, options(Direction::maximize, 1)).start_scores[0].probability,
      optimize_input(m, start, options(Direction::maximize, 1)).start_scores[1].probability);
  o.stop_at = std::min(0.999, begin + 0.2);
  const auto r = optimize_input(m, start, o);
  EXPECT_TRUE(r.reached_stop_at);
  EXPECT_LT(r.steps_done, 5000);
  for (const auto& t : r.trace)
    EXPECT_GE(t.back().probability, *o.stop_at);
  o.stop_at = 1.5;
  EXPECT_THROW(check_options(o), Error);
}

TEST(Optimization, AStartThatReachedTheGoalKeepsItsVolumeWhileTheOthersGoOn) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto start = noise_batch(m, 2, 4);
  const auto p = score_volumes(m, start);
  ASSERT_NE(p[0].probability, p[1].probability);
  const int ahead = p[0].probability > p[1].probability ? 0 : 1;
  auto o = options(Direction::maximize, 30);
  o.rule.lr = 0.05;  // Adam: without the freeze its momentum would move the start that is done
  o.stop_at = 0.5 * (p[0].probability + p[1].probability);
  const auto r = optimize_input(m, start, o);
  EXPECT_TRUE(at::equal(r.result[ahead], r.start[ahead]));
  EXPECT_FALSE(at::equal(r.result[1 - ahead], r.start[1 - ahead]));
  EXPECT_GE(r.final_scores[1 - ahead].probability, *o.stop_at - 0.02);
}

TEST(Optimization, ABlurredGradientMakesASmoothChangeAtTheSameStepLength) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 1, 2);
  auto o = options(Direction::maximize, 3);
  o.rule = {OptimizerKind::ngd, 1e-3};
  const auto raw = optimize_input(m, start, o);
  o.grad_blur = 1.5;
  const auto blurred = optimize_input(m, start, o);
  const auto roughness = [](const at::Tensor& d) {
    return total_variation_3d(d).item<double>() / d.abs().mean().item<double>();
  };
  const auto d_raw = raw.result - raw.start, d_blur = blurred.result - blurred.start;
  EXPECT_LT(roughness(d_blur), 0.6 * roughness(d_raw));
  EXPECT_GT(blurred.final_scores[0].logit, blurred.start_scores[0].logit);
  o.grad_blur = -1;
  EXPECT_THROW(check_options(o), Error);
}

TEST(Optimization, AOneWayChangeMovesEveryVoxelThatWay) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 2, 3);
  auto o = options(Direction::maximize, 5);
  o.rule = {OptimizerKind::ngd, 1e-3};
  for (const auto sign : {ChangeSign::up, ChangeSign::down}) {
    o.change_sign = sign;
    const auto r = optimize_input(m, start, o);
    const auto d = r.result - r.start;
    if (sign == ChangeSign::up) {
      EXPECT_GE(d.min().item<double>(), 0.0);
    } else {
      EXPECT_LE(d.max().item<double>(), 0.0);
    }
    EXPECT_GT(d.abs().sum().item<double>(), 0.0);
    EXPECT_EQ(r.ways, std::vector<std::string>(2, sign == ChangeSign::up ? "up" : "down"));
  }
  o.change_sign = ChangeSign::both;
  EXPECT_TRUE(optimize_input(m, start, o).ways.empty());
}

TEST(Optimization, AutoKeepsForEachStartTheWayThatReachesTheTargetFirst) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 3, 5);
  const auto p0 = score_volumes(m, start);
  std::set<std::string> chosen;  // both ways must win somewhere, or the test shows nothing
  for (const auto direction : {Direction::maximize, Direction::minimize}) {
    const bool up_is_more = direction == Direction::maximize;
    auto o = options(direction, 150);
    o.rule = {OptimizerKind::ngd, 5e-3};
    o.report_every = 1;
    double target = up_is_more ? 1.0 : 0.0;
    for (const auto& s : p0)
      target = up_is_more ? std::min(target, s.probability) : std::max(target, s.probability);
    o.stop_at = target + (up_is_more ? 0.03 : -0.03);
    // Each way alone: the step each start reaches the target, or never.
    const auto first = [&](const OptimizeResult& r, std::size_t i) {
      for (std::size_t s = 0; s < r.trace[i].size(); ++s) {
        const double p = r.trace[i][s].probability;
        if (up_is_more ? p >= *o.stop_at : p <= *o.stop_at) return s;
      }
      return r.trace[i].size() + 1000;
    };
    o.change_sign = ChangeSign::up;
    const auto up = optimize_input(m, start, o);
    o.change_sign = ChangeSign::down;
    const auto down = optimize_input(m, start, o);
    o.change_sign = ChangeSign::auto_;
    const auto both = optimize_input(m, start, o);
    ASSERT_EQ(both.ways.size(), 3u);
    ASSERT_EQ(both.result.size(0), 3);
    ASSERT_EQ(both.trace.size(), 3u);
    EXPECT_TRUE(both.reached_stop_at);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto a = first(up, i), b = first(down, i);
      ASSERT_TRUE(std::min(a, b) < 1000) << "start " << i << " reaches the target neither way";
      if (a != b) EXPECT_EQ(both.ways[i], a < b ? "up" : "down") << "start " << i;
      // The same steps as that way alone.
      const auto& alone = both.ways[i] == "up" ? up : down;
      EXPECT_TRUE(at::allclose(both.result[i], alone.result[i], 1e-5, 1e-6)) << "start " << i;
      const auto d = both.result[i] - both.start[i];
      EXPECT_TRUE(both.ways[i] == "up" ? d.min().item<double>() >= 0 : d.max().item<double>() <= 0);
      chosen.insert(both.ways[i]);
    }
  }
  EXPECT_EQ(chosen.size(), 2u);
}

TEST(Optimization, AThresholdedGradientConcentratesTheChange) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = noise_batch(m, 1, 2);
  auto o = options(Direction::maximize, 3);
  o.rule = {OptimizerKind::ngd, 1e-3};
  o.clamp = false;
  const auto plain = optimize_input(m, start, o);
  o.grad_threshold = 0.3;
  const auto sparse = optimize_input(m, start, o);
  const auto unchanged = [](const OptimizeResult& r) {
    return (r.result - r.start).eq(0).to(at::kDouble).mean().item<double>();
  };
  EXPECT_LT(unchanged(plain), 0.05);
  EXPECT_GT(unchanged(sparse), 0.2);
  EXPECT_GT(sparse.final_scores[0].logit, sparse.start_scores[0].logit);
  o.grad_threshold = 1.0;
  EXPECT_THROW(check_options(o), Error);
}

TEST(Optimization, InkMapsHaveTheOutputsLastTwoDimensions) {
  const InkModel map = load_ink_model(test_model("tiny-map.pt"), {});
  const auto m = ink_maps(map, noise_batch(map, 2));
  EXPECT_EQ(m.sizes().vec(), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_GE(m.min().item<double>(), 0.0);
  EXPECT_LE(m.max().item<double>(), 1.0);
  const InkModel scalar = load_ink_model(test_model("tiny-prob.pt"), {});
  const auto volumes = noise_batch(scalar, 1);
  const auto s = ink_maps(scalar, volumes);
  EXPECT_EQ(s.sizes().vec(), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_NEAR(s.item<double>(), score_volumes(scalar, volumes)[0].probability, 1e-5);
}

TEST(Optimization, RejectsOptionsOutOfBounds) {
  auto bad = [](auto change) {
    OptimizeOptions o;
    change(o);
    EXPECT_THROW(check_options(o), Error);
  };
  bad([](OptimizeOptions& o) { o.steps = 0; });
  bad([](OptimizeOptions& o) { o.steps = -3; });
  bad([](OptimizeOptions& o) { o.rule.lr = std::nan(""); });
  bad([](OptimizeOptions& o) { o.rule.lr = INFINITY; });
  bad([](OptimizeOptions& o) { o.rule.lr = 0; });
  bad([](OptimizeOptions& o) { o.rule.decay = 1.0; });
  bad([](OptimizeOptions& o) { o.regularizers.tv = -1; });
  bad([](OptimizeOptions& o) { o.regularizers.jitter = -1; });
  bad([](OptimizeOptions& o) { o.regularizers.blur_sigma = 0; });
  EXPECT_NO_THROW(check_options(OptimizeOptions{}));
}

}  // namespace
}  // namespace inkgen
