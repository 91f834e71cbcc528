#include "inkgen/evaluate/attribution.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "inkgen/common/error.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/gaussian_blur.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/options/option_table.hpp"
#include "noise_batch.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::test_model;

// The same noise starts in every test here.
at::Tensor attribution_starts(const InkModel& m, int n, std::uint64_t seed = 3) {
  return test::noise_batch(m, n, seed);
}

AttributionOptions raw_options(AttributionMethod method) {
  AttributionOptions o;
  o.method = method;
  o.smooth = 0;
  o.threshold = 0;
  o.dominant_sign = false;
  return o;
}

double mean_logit(const InkModel& m, const at::Tensor& x) {
  return score_volumes(m, x)[0].logit;
}

TEST(Attribution, GradientEqualsFiniteDifferences) {
  for (const char* name : {"tiny-scalar.pt", "tiny-map.pt"}) {
    const InkModel m = load_ink_model(test_model(name), {});
    const auto x = attribution_starts(m, 1);
    const auto g = raw_attribution(m, x, raw_options(AttributionMethod::gradient));
    ASSERT_EQ(g.sizes(), x.sizes()) << name;
    const double top = g.abs().max().item<double>();
    ASSERT_GT(top, 0.0) << name;
    // The voxels the gradient says matter most, and a few others.
    std::vector<int64_t> voxels{at::argmax(g.abs()).item<int64_t>(), at::argmax(g).item<int64_t>(),
                                at::argmin(g).item<int64_t>(), 7, x.numel() / 2 + 3};
    const double eps = 2e-3;
    for (const auto v : voxels) {
      auto up = x.clone(), down = x.clone();
      up.view({-1})[v] += eps;
      down.view({-1})[v] -= eps;
      const double fd = (mean_logit(m, up) - mean_logit(m, down)) / (2 * eps);
      const double analytic = g.view({-1})[v].item<double>();
      EXPECT_NEAR(analytic, fd, 0.02 * top + 0.05 * std::abs(analytic)) << name << " voxel " << v;
    }
  }
}

TEST(Attribution, CellsEqualsGradientForOneOutputPerSample) {
  for (const char* name : {"tiny-scalar.pt", "tiny-prob.pt"}) {
    const InkModel m = load_ink_model(test_model(name), {});
    const auto x = attribution_starts(m, 2);
    const auto cells = raw_attribution(m, x, raw_options(AttributionMethod::cells));
    const auto gradient = raw_attribution(m, x, raw_options(AttributionMethod::gradient));
    EXPECT_TRUE(at::allclose(cells, gradient, 1e-5, 1e-7)) << name;
    EXPECT_GT(cells.abs().max().item<double>(), 0.0) << name;
  }
  // With many cells the two differ: cells weights each cell by its own ink probability.
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto x = attribution_starts(m, 1);
  EXPECT_FALSE(at::allclose(raw_attribution(m, x, raw_options(AttributionMethod::cells)),
                            raw_attribution(m, x, raw_options(AttributionMethod::gradient))));
}

TEST(Attribution, MapDepthPutsTheModelsInkMapAtTheDepthItsGradientPointsTo) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto x = attribution_starts(m, 2);
  const auto a = raw_attribution(m, x, raw_options(AttributionMethod::map_depth));
  ASSERT_EQ(a.sizes(), x.sizes());
  // One sign per crop.
  for (int i = 0; i < 2; ++i)
    EXPECT_TRUE((a[i] >= 0).all().item<bool>() || (a[i] <= 0).all().item<bool>()) << i;
  // Each column sums to the model's ink probability there (its map upsampled to the crop).
  const auto p =
      at::upsample_bilinear2d(ink_maps(m, x).unsqueeze(1), {x.size(-2), x.size(-1)}, false);
  EXPECT_TRUE(at::allclose(a.abs().sum(2), p, 1e-4, 1e-6));
  // ...as a Gaussian about the |gradient|-weighted centre of the kept side of the gradient: the
  // layer a column peaks in is the one nearest its centre.
  const auto g =
      gaussian_blur_3d(raw_attribution(m, x, raw_options(AttributionMethod::cells)), 2.5, 1.5);
  const auto s = a[0].sum().item<double>() >= 0 ? 1.0 : -1.0;
  const auto kept = s > 0 ? g[0].clamp_min(0) : g[0].clamp_max(0);
  const auto w = gaussian_blur_3d(kept.abs().unsqueeze(0), 0.0, 4.0)[0][0];  // (D, H, W)
  const auto z = at::arange(w.size(0), w.options()).reshape({-1, 1, 1});
  const auto centre = (w * z).sum(0) / w.sum(0).clamp_min(1e-20);
  EXPECT_TRUE(at::equal(a[0][0].abs().argmax(0), at::round(centre).to(at::kLong)));

  // A model with one output per crop has no map: columns weigh by their gradient's mass.
  const InkModel scalar = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto b = raw_attribution(scalar, attribution_starts(scalar, 1),
                                 raw_options(AttributionMethod::map_depth));
  const auto columns = b.abs().sum(2);
  EXPECT_GT((columns.max() - columns.min()).item<double>(), 0.1 * columns.max().item<double>());
}

TEST(Attribution, CellsTargetWeightsEachCellByItsDetachedProbability) {
  const auto l = at::tensor({2.0f, -1.0f, -3.0f}).reshape({1, 3}).requires_grad_(true);
  const auto t = attribution_target(l, AttributionTarget::weighted_cells);
  const auto p = at::sigmoid(l.detach());
  const auto w = p / p.sum();
  EXPECT_NEAR(t.item<double>(), (w * l.detach()).sum().item<double>(), 1e-6);
  t.sum().backward();
  EXPECT_TRUE(at::allclose(l.grad(), w, 1e-6, 1e-7));  // the weights are constants
  // Cells all sure of "no ink" still give a finite target (p underflows to 0 in float32).
  const auto sure = at::tensor({-200.0f, -300.0f}).reshape({1, 2});
  const auto s = attribution_target(sure, AttributionTarget::weighted_cells).item<double>();
  EXPECT_TRUE(std::isfinite(s));
  EXPECT_NEAR(s, -200.0, 1e-3);
  EXPECT_NEAR(attribution_target(sure, AttributionTarget::mean_logit).item<double>(), -250.0, 1e-3);
}

TEST(Attribution, SmoothingBlursAnImpulseToAGaussian) {
  auto impulse = at::zeros({1, 1, 13, 15, 15});
  impulse[0][0][6][7][7] = 1.0f;
  const double sigma = 1.5;
  const auto a = postprocess_attribution(impulse, sigma, 0.0);
  const double centre = a[0][0][6][7][7].item<double>();
  EXPECT_NEAR(a.sum().item<double>(), 1.0, 1e-4);  // the blur keeps the mass
  for (const auto& [dz, dy, dx] :
       std::vector<std::array<int, 3>>{{1, 0, 0}, {0, 2, 0}, {0, 0, 3}, {1, 1, 1}, {2, -1, 2}}) {
    const double expected = centre * std::exp(-(dz * dz + dy * dy + dx * dx) / (2 * sigma * sigma));
    EXPECT_NEAR(a[0][0][6 + dz][7 + dy][7 + dx].item<double>(), expected, 1e-3 * centre)
        << dz << "," << dy << "," << dx;
  }
  EXPECT_EQ(a.amax().item<double>(), centre);
  // Off leaves it alone.
  EXPECT_TRUE(at::equal(postprocess_attribution(impulse, 0.0, 0.0), impulse));
}

TEST(Attribution, ThresholdZeroesWhatIsBelowTTimesTheCropsMaxAndShrinksTheRest) {
  // Two samples of different scale: each is thresholded against its own max |A|.
  const auto one = at::tensor({1.0f, -0.5f, 0.05f, -0.09f, 0.2f, 0.0f}).reshape({1, 1, 1, 2, 3});
  const auto maps = at::cat({one, 10 * one});
  const auto a = postprocess_attribution(maps, 0.0, 0.1);
  const auto expected = at::tensor({0.9f, -0.4f, 0.0f, 0.0f, 0.1f, 0.0f}).reshape({1, 1, 1, 2, 3});
  EXPECT_TRUE(at::allclose(a[0], expected[0], 1e-5, 1e-6)) << a;
  EXPECT_TRUE(at::allclose(a[1], 10 * expected[0], 1e-5, 1e-5)) << a;
}

TEST(Attribution, DominantSignDropsTheMinoritySignBeforeTheThreshold) {
  const auto one = at::tensor({1.0f, -0.5f, 0.05f, -0.09f, 0.2f, 0.0f}).reshape({1, 1, 1, 2, 3});
  const auto maps = at::cat({one, -one});
  const auto a = postprocess_attribution(maps, 0.0, 0.1, true);
  const auto expected = at::tensor({0.9f, 0.0f, 0.0f, 0.0f, 0.1f, 0.0f}).reshape({1, 1, 1, 2, 3});
  EXPECT_TRUE(at::allclose(a[0], expected[0], 1e-5, 1e-6)) << a;
  EXPECT_TRUE(at::allclose(a[1], -expected[0], 1e-5, 1e-6)) << a;
  EXPECT_TRUE(AttributionOptions{}.dominant_sign);
}

TEST(Attribution, IntegratedGradientsAreComplete) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  auto o = raw_options(AttributionMethod::ig);
  o.samples = 256;
  // The baseline is blurred in x,y only: layers flat in x,y but unlike in depth stay as they are.
  const auto layers = at::arange(6, at::kFloat).reshape({1, 1, 6, 1, 1}).expand({1, 1, 6, 16, 16});
  EXPECT_TRUE(at::allclose(ig_baseline(layers, o.baseline_sigma), layers, 1e-5, 1e-5));
  for (std::uint64_t seed : {3u, 4u}) {
    const auto x = attribution_starts(m, 1, seed);
    const auto x0 = ig_baseline(x, o.baseline_sigma);
    const double gap = mean_logit(m, x) - mean_logit(m, x0);
    ASSERT_GT(std::abs(gap), 1e-3);
    const auto a = attribute_volumes(m, x, o);
    EXPECT_NEAR(a.sum().item<double>(), gap, 0.02 * std::abs(gap) + 1e-3) << "seed " << seed;
  }
}

TEST(Attribution, SmoothgradIsSeededPerCropAndNearTheGradientForSmallNoise) {
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  const auto x = attribution_starts(m, 2);
  auto o = raw_options(AttributionMethod::smoothgrad);
  o.samples = 4;
  const auto both = raw_attribution(m, x, o, {11, 12});
  const auto second = raw_attribution(m, x.slice(0, 1, 2), o, {12});
  EXPECT_TRUE(at::allclose(both[1], second[0], 1e-5, 1e-7));  // batching does not matter
  EXPECT_FALSE(at::allclose(raw_attribution(m, x, o, {13, 14}), both));
  EXPECT_THROW(raw_attribution(m, x, o, {1}), Error);
  o.noise_sd = 1e-6;
  EXPECT_TRUE(at::allclose(raw_attribution(m, x, o, {11, 12}),
                           raw_attribution(m, x, raw_options(AttributionMethod::gradient)), 1e-3,
                           1e-6));
  EXPECT_NEAR(attribution_noise_sd(AttributionOptions{}, m.card),
              0.05 * (m.card.range_hi - m.card.range_lo), 1e-12);
}

TEST(Attribution, DepthProfileIsTheMeanAbsPerLayer) {
  auto a = at::zeros({1, 3, 2, 2});
  a[0][1].fill_(-2.0f);
  a[0][2][0][0] = 4.0f;
  EXPECT_EQ(attribution_depth_profile(a), (std::vector<double>{0.0, 2.0, 1.0}));
}

TEST(Attribution, OptionsComeFromTheTableWithTheirDefaultsAndChecks) {
  const JobSettings defaults = resolve_settings({});
  EXPECT_EQ(defaults.attribution.method, AttributionMethod::map_depth);
  EXPECT_EQ(defaults.attribution.samples, 16);
  EXPECT_FALSE(defaults.attribution.noise_sd.has_value());
  EXPECT_EQ(defaults.attribution.smooth, 1.5);
  EXPECT_EQ(defaults.attribution.threshold, 0.1);
  const auto options = record_settings(defaults, in_attribute);
  for (const char* key : {"method", "samples", "noise_sd", "smooth", "threshold", "segment",
                          "crops", "z0", "model", "seed", "batch", "precision"})
    EXPECT_TRUE(options.contains(key)) << key;
  EXPECT_FALSE(options.contains("steps"));
  for (const char* key : {"method", "samples", "noise-sd", "smooth", "threshold"})
    EXPECT_EQ(find_option(key)->scopes, unsigned{in_attribute}) << key;

  JobRequest r;
  r.values = {
      {"method", "ig"}, {"samples", 8}, {"noise-sd", 0.01}, {"smooth", 0.0}, {"threshold", 0.0}};
  const JobSettings s = resolve_settings(r);
  EXPECT_EQ(s.attribution.method, AttributionMethod::ig);
  EXPECT_EQ(s.attribution.samples, 8);
  EXPECT_EQ(*s.attribution.noise_sd, 0.01);
  EXPECT_EQ(s.attribution.smooth, 0.0);

  const auto refused = [](const std::string& key, const nlohmann::json& value) {
    JobRequest bad;
    bad.values[key] = value;
    try {
      resolve_settings(bad);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused("method", "saliency").find("--method"), std::string::npos);
  EXPECT_NE(refused("method", "saliency").find("smoothgrad"), std::string::npos);
  EXPECT_NE(refused("samples", 0).find("--samples"), std::string::npos);
  EXPECT_NE(refused("noise-sd", -1.0).find("--noise-sd"), std::string::npos);
  EXPECT_NE(refused("smooth", -0.5).find("--smooth"), std::string::npos);
  EXPECT_NE(refused("threshold", 1.0).find("--threshold"), std::string::npos);
  EXPECT_NE(refused("keep-sign", "largest").find("--keep-sign"), std::string::npos);
  r.values = {{"keep-sign", "both"}};
  EXPECT_FALSE(resolve_settings(r).attribution.dominant_sign);
  EXPECT_EQ(record_settings(defaults, in_attribute)["keep_sign"], "dominant");
}

}  // namespace
}  // namespace inkgen
