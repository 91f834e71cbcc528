#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "inkgen/optimize/objective.hpp"

namespace inkgen {

// Parts of fewer rows run slower than the whole batch: measured with one row per part, the
// bundled model's step took twice as long, the Grand Prize I3D's 1.26x; two and four rows were
// level with eight.
inline constexpr std::int64_t min_rows_per_part = 4;

// How a batch of `rows` is cut for `threads` CPU threads: one part per thread, fewer when a part
// would have under min_rows_per_part rows; rows and threads shared out as evenly as they go. One
// part: nothing to split.
struct RowPart {
  std::int64_t begin = 0, end = 0;  // rows [begin, end)
  int threads = 1;                  // LibTorch's intra-op threads for this part
};
std::vector<RowPart> plan_row_parts(int threads, std::int64_t rows);

// The model's share of an optimization step on the CPU, run as independent parts of the batch,
// each on its own thread with its share of LibTorch's threads.
//
// Why: LibTorch parallelizes inside each operation, so every operation of a step (the
// convolutions, and the many small activations, pools, copies and their backward passes) ends in
// a barrier of all threads, and the small ones hardly use more than one. The rows of a batch do
// not depend on each other, so each part goes at its own pace. The part threads live as long as
// this object; LibTorch's thread count of the calling thread is left as it was.
class RowSplit {
 public:
  // `threads`: the calling thread's LibTorch threads (at::get_num_threads()).
  RowSplit(int threads, std::int64_t rows);
  ~RowSplit();
  RowSplit(const RowSplit&) = delete;
  RowSplit& operator=(const RowSplit&) = delete;

  const std::vector<RowPart>& parts() const { return parts_; }

  struct Pass {
    at::Tensor cells;       // the model's cell logits (N, M), without a graph
    at::Tensor input_grad;  // d(scale * sum of objective_loss) / d input, the input's shape
  };
  // `input` (N, ...) with N the rows this split was planned for. Exceptions of a part (a model
  // that fails, a bad objective) reach the caller as they were thrown.
  Pass run(const InkModel& model, const BoundObjective& objective, const at::Tensor& input,
           Direction direction, double scale);

 private:
  class Team;
  int threads_;
  std::vector<RowPart> parts_;
  std::unique_ptr<Team> team_;
};

}  // namespace inkgen
