#include "inkgen/evaluate/depth_check.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>

#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/run/run_record.hpp"

namespace inkgen {

namespace {

// A permutation of 0..n-1 that moves at least one layer (when n > 1): an identity "shuffle" would
// report the real order's score as a shuffle's.
std::vector<std::int64_t> shuffled_order(int n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  do {
    std::shuffle(order.begin(), order.end(), rng);
  } while (n > 1 && std::is_sorted(order.begin(), order.end()));
  return order;
}

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

// Below this difference of mean logits two orders are not told apart.
constexpr double logit_margin = 0.5;

}  // namespace

DepthCheck depth_check(const InkModel& model, const Segment& segment, const Crop& crop,
                       std::optional<int> z0, int shuffles, std::uint64_t seed) {
  const auto& card = model.card;
  const Segment stored = in_order(segment, LayerOrder::as_stored);
  const Segment reversed = in_order(segment, LayerOrder::reversed);
  const LayerOrder in_use = segment.order;
  DepthCheck check;
  check.in_use = in_use;
  check.z0_as_stored = z0.value_or(card.default_z0(stored.layer_count()));
  check.z0_reversed = z0.value_or(card.default_z0(reversed.layer_count()));
  const at::Tensor a = segment_start(card, stored, crop, check.z0_as_stored).values;
  const at::Tensor b = segment_start(card, reversed, crop, check.z0_reversed).values;
  const at::Tensor used = in_use == LayerOrder::reversed ? b : a;
  std::vector<at::Tensor> volumes{a, b};
  for (int k = 0; k < shuffles; ++k) {
    check.shuffle_seeds.push_back(start_seed(seed, k));
    const auto order = shuffled_order(static_cast<int>(used.size(1)), check.shuffle_seeds.back());
    volumes.push_back(used.index_select(1, at::tensor(order, at::kLong)));
  }
  // A few at a time: a large model's activations for 66 samples at once would not fit.
  std::vector<InkScore> scores;
  constexpr std::size_t chunk = 4;
  for (std::size_t i = 0; i < volumes.size(); i += chunk) {
    const std::vector<at::Tensor> part(
        volumes.begin() + static_cast<std::ptrdiff_t>(i),
        volumes.begin() + static_cast<std::ptrdiff_t>(std::min(volumes.size(), i + chunk)));
    for (const auto& s : score_volumes(model, at::stack(part)))
      scores.push_back(s);
  }
  check.as_stored = scores[0];
  check.reversed = scores[1];
  check.shuffled.assign(scores.begin() + 2, scores.end());
  return check;
}

nlohmann::json depth_check_json(const DepthCheck& check) {
  nlohmann::json j;
  j["in_use"] = to_string(check.in_use);
  j["as_stored"] = score_json(check.as_stored);
  j["as_stored"]["z0"] = check.z0_as_stored;
  j["reversed"] = score_json(check.reversed);
  j["reversed"]["z0"] = check.z0_reversed;
  j["shuffled"] = nlohmann::json::array();
  for (std::size_t k = 0; k < check.shuffled.size(); ++k) {
    nlohmann::json s = score_json(check.shuffled[k]);
    s["seed"] = check.shuffle_seeds[k];
    j["shuffled"].push_back(s);
  }
  j["verdict"] = depth_check_verdict(check);
  return j;
}

void attach_depth_check(const InkModel& model, const Segment& segment, StartVolume& start,
                        int shuffles, std::uint64_t seed) {
  if (shuffles <= 0) return;
  const auto& c = start.source.at("crop");
  const Crop crop{c[0].get<int>(), c[1].get<int>(), c[2].get<int>(), c[3].get<int>()};
  // The same z0 in both orders: the window rule depends only on the layer count.
  const DepthCheck check =
      depth_check(model, segment, crop, start.source.at("z0").get<int>(), shuffles, seed);
  start.source["depth_check"] = depth_check_json(check);
}

std::string depth_check_verdict(const DepthCheck& check) {
  const bool reversed_in_use = check.in_use == LayerOrder::reversed;
  const InkScore& used = reversed_in_use ? check.reversed : check.as_stored;
  const InkScore& other = reversed_in_use ? check.as_stored : check.reversed;
  if (other.logit > used.logit + logit_margin) {
    return std::string("the other order scores higher (logit ") + fixed(other.logit, 2) + " vs " +
           fixed(used.logit, 2) + "): the layers may run the other way; " +
           (reversed_in_use ? "drop --reverse-layers" : "try --reverse-layers") +
           " and check again on a crop with ink";
  }
  double best_shuffle = -std::numeric_limits<double>::infinity();
  for (const auto& s : check.shuffled)
    best_shuffle = std::max(best_shuffle, s.logit);
  if (!check.shuffled.empty() && best_shuffle + logit_margin >= used.logit) {
    return "a shuffle of the layers scores about as high as their order (logit " +
           fixed(best_shuffle, 2) + " vs " + fixed(used.logit, 2) +
           "): this score does not rest on depth structure (no ink here, or a window off the "
           "surface: try another --z0)";
  }
  if (used.logit > other.logit + logit_margin)
    return "the order in use scores highest, above its reverse and every shuffle";
  return "the order in use scores above every shuffle; reversed scores about the same (logit " +
         fixed(other.logit, 2) + " vs " + fixed(used.logit, 2) +
         "), so the direction is not told "
         "apart on this crop";
}

}  // namespace inkgen
