#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "inkgen/model/ink_score.hpp"
#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// One-signed changes. A change allowed both ways finds the model's most efficient path, which on
// a weaker model is a pattern of lighter and denser voxels along the fibres; ink is one material
// added or taken away, so the change that shows it moves every voxel the same way. With
// ChangeSign::auto_ every start is optimized both ways at once, in rows [0, n) (up) and [n, 2n)
// (down), and keeps the way that reaches the target first: the model's own answer to "is ink
// denser or lighter", with no assumption about the ink.

// The sign a start of `source` (a StartVolume's source record) is optimized with: auto_ on noise
// other than the card's sheet is both, since a start of plain noise is no papyrus that ink could
// be added to or taken from (and from uniform noise the real Keras model reaches no target one
// way in 200 steps).
ChangeSign change_sign_for(ChangeSign wanted, const nlohmann::json& source);

// How many rows of the optimized batch one start takes.
std::int64_t rows_per_start(ChangeSign sign);

// Each row's sign, (rows, 1, ..., 1) with `dims` dimensions in all: +1 may only grow, -1 only
// shrink, 0 both ways.
at::Tensor row_signs(ChangeSign sign, std::int64_t starts, std::int64_t dims,
                     const at::TensorOptions& options);

// The gradient without the entries whose descent step would move a row against its sign.
at::Tensor keep_descent_sign(const at::Tensor& grad, const at::Tensor& signs);

// The volume moved back onto its allowed side of the start.
at::Tensor keep_change_sign(const at::Tensor& volume, const at::Tensor& start,
                            const at::Tensor& signs);

// For each of `starts` starts, the row that represents it: with two rows a start, the one that
// reached the target first (trace[row][step]), else on equal steps the smaller change
// (`change_l1`, one per row), and with neither reaching it the one nearer the target.
std::vector<std::int64_t> leading_rows(const std::vector<std::vector<InkScore>>& trace,
                                       const std::vector<double>& change_l1, std::int64_t starts,
                                       bool maximize, double target);

}  // namespace inkgen
