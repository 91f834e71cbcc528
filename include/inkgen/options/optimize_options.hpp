#pragma once

// What an optimization run is asked to do, as plain values: no LibTorch here, so that the option
// table, the JOBS parser and the fuzz/ASan builds can use these types. The numbers below are the
// defaults of every command, JOBS key and run.json (the option table reads them from here).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/enum_names.hpp"
#include "inkgen/options/objective_spec.hpp"

namespace inkgen {

enum class Direction { maximize, minimize };
inline constexpr EnumNames<Direction, 2> direction_names{
    {{Direction::maximize, "maximize"}, {Direction::minimize, "minimize"}}};
inline const char* to_string(Direction d) {
  return enum_name(direction_names, d);
}

// What the optimizer moves (see parameterization.hpp).
enum class ParamKind { pixel, fourier };
inline constexpr EnumNames<ParamKind, 2> param_kind_names{
    {{ParamKind::pixel, "pixel"}, {ParamKind::fourier, "fourier"}}};
inline ParamKind parse_param_kind(const std::string& text) {
  return parse_enum(param_kind_names, text, "--param");
}
inline const char* to_string(ParamKind k) {
  return enum_name(param_kind_names, k);
}

// How a Fourier volume is kept inside the card's valid range [lo, hi].
enum class FourierRange {
  sigmoid,             // x = lo + (hi - lo) * sigmoid(irfft(...)): for noise starts
  clamp_around_start,  // x = clamp(start + irfft(...), lo, hi): for real crops, which start
                       // unchanged
};

enum class OptimizerKind {
  // Normalized gradient descent: each start moves by lr * sqrt(its voxels) along its gradient's
  // direction, so lr is the root-mean-square change of a voxel per step. Unlike Adam, which
  // divides every voxel's gradient by its own running size and so inflates the tiny gradients far
  // from what the model reads into changes as large as the rest, it keeps the gradient's shape:
  // the change goes where the model is sensitive.
  ngd,
  adam,  // Adam with bias correction
  sgd,   // plain gradient steps
  seed,  // the original research script: x <- (x - lr * grad) * (1 - decay), loss averaged over the
         // batch
};
inline constexpr EnumNames<OptimizerKind, 4> optimizer_kind_names{{{OptimizerKind::ngd, "ngd"},
                                                                   {OptimizerKind::adam, "adam"},
                                                                   {OptimizerKind::sgd, "sgd"},
                                                                   {OptimizerKind::seed, "seed"}}};
inline OptimizerKind parse_optimizer_kind(const std::string& text) {
  return parse_enum(optimizer_kind_names, text, "--optimizer");
}
inline const char* to_string(OptimizerKind k) {
  return enum_name(optimizer_kind_names, k);
}
// The learning rate each optimizer uses when none is given.
inline double default_learning_rate(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::ngd:
      return 3e-4;  // 3e-4 of the Grand Prize scale's range per voxel and step (RMS)
    case OptimizerKind::adam:
      return 0.01;  // a hundredth of a 0..1 input range per step at most
    case OptimizerKind::sgd:
      return 1.0;
    case OptimizerKind::seed:
      return 1e4;  // the research script's value, for its mean-over-batch loss
  }
  return 0.01;
}

enum class Robustness { off, light, strong };
inline constexpr EnumNames<Robustness, 3> robustness_names{
    {{Robustness::off, "off"}, {Robustness::light, "light"}, {Robustness::strong, "strong"}}};
inline Robustness parse_robustness(const std::string& text) {
  return parse_enum(robustness_names, text, "--robust");
}
inline const char* to_string(Robustness r) {
  return enum_name(robustness_names, r);
}

enum class NoiseKind {
  uniform,   // independent voxels, uniform over the range
  gaussian,  // independent voxels, centred in the range, 6 sigma wide, clipped to it
  smooth,    // low-pass noise (Gaussian-blurred, sigma 1 layer and 2 pixels), more like papyrus
  // The card's mean depth profile of its training data (input.profile: one value per layer) plus
  // small uniform noise (--noise-range is then the noise's lo,hi around the profile): a plain
  // sheet without any detail, so that what the model adds is what it wants, at the depth it
  // wants it. A start of pure noise leaves the model free to find ink-like texture at any depth.
  sheet,
  auto_,  // sheet when the card has a profile, else uniform
};
inline constexpr EnumNames<NoiseKind, 5> noise_kind_names{{{NoiseKind::uniform, "uniform"},
                                                           {NoiseKind::gaussian, "gaussian"},
                                                           {NoiseKind::smooth, "smooth"},
                                                           {NoiseKind::sheet, "sheet"},
                                                           {NoiseKind::auto_, "auto"}}};
inline NoiseKind parse_noise_kind(const std::string& text) {
  return parse_enum(noise_kind_names, text, "--noise");
}
inline const char* to_string(NoiseKind k) {
  return enum_name(noise_kind_names, k);
}

// Which way a voxel may move from its start (change_sign.hpp says why one way).
enum class ChangeSign {
  both,
  up,     // denser only
  down,   // lighter only
  auto_,  // both ways at once, each start keeping the way that reaches the target first
};
inline constexpr EnumNames<ChangeSign, 4> change_sign_names{{{ChangeSign::both, "both"},
                                                             {ChangeSign::up, "up"},
                                                             {ChangeSign::down, "down"},
                                                             {ChangeSign::auto_, "auto"}}};
inline ChangeSign parse_change_sign(const std::string& text) {
  return parse_enum(change_sign_names, text, "--change-sign");
}
inline const char* to_string(ChangeSign k) {
  return enum_name(change_sign_names, k);
}

// The fields' own defaults are the neutral ones of the loop (the classic recipe); what a command
// runs by default is a recipe, applied by apply_recipe below.
struct UpdateRuleOptions {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = default_learning_rate(OptimizerKind::adam);
  double decay = 0.2;  // seed only
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// What keeps a result readable rather than high-frequency noise the model happens to like. All
// off by default.
struct Regularizers {
  double l2 = 0.0;     // weight of the mean squared distance to the start, per sample
  double tv = 0.0;     // weight of the mean absolute 3D finite difference (total variation)
  int jitter = 0;      // shift the volume by up to this many voxels in x and y before each forward
  int blur_every = 0;  // blur the volume every this many steps (0: never)
  double blur_sigma = 0.5;              // in voxels, in D, H and W
  Robustness robust = Robustness::off;  // random 3D transforms before each forward
  double diversity = 0.0;  // weight of the similarity between the starts' changes (batch > 1)
};

// A run's defaults come as a recipe; options given one by one override it.
enum class Recipe {
  // A minimal change that shows what the model reads: normalized gradient steps along the
  // gradient blurred to the scan's resolution and soft-thresholded to where the model is most
  // sensitive, every voxel moving one way (denser or lighter: each start tries both and keeps
  // the way that gets there first), each start stopped once it reaches the wanted probability
  // (0.9 for ink, 0.1 for no ink), against every output cell's cross-entropy. Its diffs put the
  // change where the known answer lies (samples/README.md, "Known-answer fidelity").
  minimal,
  // The first recipe: 200 Adam steps of the mean logit, no stop. Saturates the model and shows
  // high-frequency noise the model happens to respond to.
  classic,
};
inline constexpr EnumNames<Recipe, 2> recipe_names{
    {{Recipe::minimal, "minimal"}, {Recipe::classic, "classic"}}};

struct OptimizeOptions {
  Direction direction = Direction::maximize;
  ObjectiveSpec objective;  // the mean ink logit
  int steps = 200;
  ParamKind param = ParamKind::pixel;
  double fourier_decay = 1.0;
  FourierRange fourier_range =
      FourierRange::sigmoid;  // noise starts; real crops: clamp_around_start
  UpdateRuleOptions rule;
  Regularizers regularizers;
  // Sigma in voxels (depth and plane) of a Gaussian blur of each step's gradient (pixel
  // parameterization; 0: none). A model's raw gradient alternates in sign from layer to layer
  // around what it reads (denser above, lighter below); blurred to the scan's own resolution it
  // becomes the change itself.
  double grad_blur = 0.0;
  ChangeSign change_sign = ChangeSign::both;
  double grad_threshold = 0.0;
  bool clamp = true;  // keep pixel values inside the card's valid range after every step
  // On a CPU with several threads, run the model's part of each step as one part of the batch
  // per thread (optimize/row_split.hpp).
  bool split_batch = true;
  std::uint64_t seed = 0;  // drives the jitter
  int report_every = 10;   // read the scores back to the host every K steps (and at the end)
  int save_every = 0;      // hand a snapshot of the volume to on_snapshot every K steps (0: never)
  // A start stops changing once it reaches this ink probability (maximize: at least, minimize: at
  // most); the run ends when every start has. Past that point a run only inflates the logit and
  // adds detail that says nothing more about what the model wants.
  std::optional<double> stop_at;
  // Channel atlases: start i reads channel row_channels[i] in every channel term instead of the
  // term's own, so that one batch maximizes one channel per start. Empty: the terms' channels.
  std::vector<std::int64_t> row_channels;
};

struct NoiseSpec {
  NoiseKind kind = NoiseKind::uniform;
  std::optional<std::array<double, 2>> range;  // default: the card's valid range
};

// The one place a recipe's values are written. `direction` decides the minimal recipe's target.
inline void apply_recipe(Recipe recipe, Direction direction, OptimizeOptions& o, NoiseKind& noise) {
  const OptimizeOptions neutral;
  o.objective = recipe == Recipe::minimal ? ink_objective(Objective::bce) : neutral.objective;
  o.rule.kind = recipe == Recipe::minimal ? OptimizerKind::ngd : neutral.rule.kind;
  o.rule.lr = default_learning_rate(o.rule.kind);
  o.grad_blur = recipe == Recipe::minimal ? 1.5 : neutral.grad_blur;
  o.change_sign = recipe == Recipe::minimal ? ChangeSign::auto_ : neutral.change_sign;
  o.grad_threshold = recipe == Recipe::minimal ? 0.05 : neutral.grad_threshold;
  o.stop_at = recipe == Recipe::minimal
                  ? std::optional<double>(direction == Direction::maximize ? 0.9 : 0.1)
                  : neutral.stop_at;
  noise = recipe == Recipe::minimal ? NoiseKind::auto_ : NoiseSpec{}.kind;
}

}  // namespace inkgen
