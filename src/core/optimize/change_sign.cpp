#include "inkgen/optimize/change_sign.hpp"

#include <ATen/ATen.h>

#include <limits>

namespace inkgen {

ChangeSign change_sign_for(ChangeSign wanted, const nlohmann::json& source) {
  const bool plain_noise = source.is_object() && source.value("kind", "") == "noise" &&
                           source.value("noise", "") != "sheet";
  return wanted == ChangeSign::auto_ && plain_noise ? ChangeSign::both : wanted;
}

std::int64_t rows_per_start(ChangeSign sign) {
  return sign == ChangeSign::auto_ ? 2 : 1;
}

at::Tensor row_signs(ChangeSign sign, std::int64_t starts, std::int64_t dims,
                     const at::TensorOptions& options) {
  std::vector<float> v;
  for (std::int64_t way = 0; way < rows_per_start(sign); ++way) {
    const float s = sign == ChangeSign::up      ? 1.0f
                    : sign == ChangeSign::down  ? -1.0f
                    : sign == ChangeSign::auto_ ? (way == 0 ? 1.0f : -1.0f)
                                                : 0.0f;
    v.insert(v.end(), static_cast<std::size_t>(starts), s);
  }
  std::vector<std::int64_t> shape(static_cast<std::size_t>(dims), 1);
  shape[0] = static_cast<std::int64_t>(v.size());
  return at::tensor(v).reshape(shape).to(options);
}

at::Tensor keep_descent_sign(const at::Tensor& grad, const at::Tensor& signs) {
  // Descent moves by -grad: a row that may only grow keeps the negative entries.
  return at::where(signs > 0, grad.clamp_max(0), at::where(signs < 0, grad.clamp_min(0), grad));
}

at::Tensor keep_change_sign(const at::Tensor& volume, const at::Tensor& start,
                            const at::Tensor& signs) {
  return at::where(signs > 0, at::maximum(volume, start),
                   at::where(signs < 0, at::minimum(volume, start), volume));
}

std::vector<std::int64_t> leading_rows(const std::vector<std::vector<InkScore>>& trace,
                                       const std::vector<double>& change_l1, std::int64_t starts,
                                       bool maximize, double target) {
  const auto ways = static_cast<std::int64_t>(trace.size()) / starts;
  const auto reached_at = [&](std::int64_t row) {
    const auto& t = trace[static_cast<std::size_t>(row)];
    for (std::size_t s = 0; s < t.size(); ++s) {
      if (maximize ? t[s].probability >= target : t[s].probability <= target) return s;
    }
    return std::numeric_limits<std::size_t>::max();
  };
  const auto last = [&](std::int64_t row) {
    const auto& t = trace[static_cast<std::size_t>(row)];
    return t.empty() ? 0.5 : t.back().probability;
  };
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < starts; ++i) {
    std::int64_t best = i;
    for (std::int64_t way = 1; way < ways; ++way) {
      const std::int64_t row = i + way * starts;
      const auto a = reached_at(best), b = reached_at(row);
      const bool neither = a == std::numeric_limits<std::size_t>::max() && a == b;
      const bool better = neither
                              ? (maximize ? last(row) > last(best) : last(row) < last(best))
                              : b < a || (b == a && change_l1[static_cast<std::size_t>(row)] <
                                                        change_l1[static_cast<std::size_t>(best)]);
      if (better) best = row;
    }
    rows.push_back(best);
  }
  return rows;
}

}  // namespace inkgen
