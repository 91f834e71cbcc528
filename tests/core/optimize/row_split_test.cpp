#include "inkgen/optimize/row_split.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "noise_batch.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::test_model;

// LibTorch's thread count for one test, restored after it.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : before_(at::get_num_threads()) { at::set_num_threads(n); }
  ~ThreadCount() { at::set_num_threads(before_); }

 private:
  int before_;
};

// What the step computes without a split: cells and d(scale * sum of losses) / d input.
RowSplit::Pass whole(const InkModel& m, const BoundObjective& o, const at::Tensor& input,
                     Direction d, double scale) {
  const at::Tensor x = input.detach().requires_grad_(true);
  const auto pass = run_model(m, x, o.reads_layers);
  const auto losses = objective_loss(o, pass.output, pass.layers, d);
  const auto grad = torch::autograd::grad({losses.sum() * scale}, {x})[0];
  return {pass.output.detach(), grad};
}

void expect_same_pass(const RowSplit::Pass& a, const RowSplit::Pass& b) {
  ASSERT_EQ(a.cells.sizes(), b.cells.sizes());
  ASSERT_EQ(a.input_grad.sizes(), b.input_grad.sizes());
  EXPECT_TRUE(at::allclose(a.cells, b.cells, 1e-5, 1e-6));
  const double scale = b.input_grad.abs().max().item<double>();
  ASSERT_GT(scale, 0.0);
  EXPECT_LT((a.input_grad - b.input_grad).abs().max().item<double>(), 1e-5 * scale);
}

TEST(RowSplit, SharesRowsAndThreadsOutEvenly) {
  const auto text = [](const std::vector<RowPart>& parts) {
    std::string s;
    for (const auto& p : parts)
      s += std::to_string(p.begin) + "-" + std::to_string(p.end) + ":" + std::to_string(p.threads) +
           " ";
    return s;
  };
  EXPECT_EQ(text(plan_row_parts(2, 16)), "0-8:1 8-16:1 ");
  EXPECT_EQ(text(plan_row_parts(3, 14)), "0-5:1 5-10:1 10-14:1 ");
  // A part gets at least min_rows_per_part (4) rows; the threads are shared among fewer parts.
  EXPECT_EQ(text(plan_row_parts(16, 16)), "0-4:4 4-8:4 8-12:4 12-16:4 ");
  EXPECT_EQ(text(plan_row_parts(5, 9)), "0-5:3 5-9:2 ");
  EXPECT_EQ(text(plan_row_parts(3, 7)), "0-7:3 ");
  EXPECT_EQ(text(plan_row_parts(16, 2)), "0-2:16 ");
  EXPECT_EQ(text(plan_row_parts(1, 16)), "0-16:1 ");
}

TEST(RowSplit, GivesTheWholeBatchsCellsAndInputGradient) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto input = test::noise_batch(m, 13, 2);
  const BoundObjective ink = bind_objective(ObjectiveSpec{}, m);
  for (const int threads : {2, 3}) {
    RowSplit split(threads, 13);
    ASSERT_EQ(split.parts().size(), static_cast<std::size_t>(threads));
    for (const auto d : {Direction::maximize, Direction::minimize}) {
      expect_same_pass(split.run(m, ink, input, d, 1.0 / 13), whole(m, ink, input, d, 1.0 / 13));
    }
  }
}

TEST(RowSplit, GivesEachRowItsOwnChannelOfAHiddenLayer) {
  const InkModel m = load_ink_model(test_model("tiny-features.pt"), {});
  const auto input = test::noise_batch(m, 8, 5);
  // A channel atlas of four starts, run both ways: rows 4-7 repeat rows 0-3's channels, so the
  // second part must start over at the first channel.
  const auto spec = parse_objective_spec("channel:edges:0");
  const BoundObjective atlas = bind_objective(spec, m, {0, 1, 1, 0});
  RowSplit split(2, 8);
  const auto parted = split.run(m, atlas, input, Direction::maximize, 1.0);
  expect_same_pass(parted, whole(m, atlas, input, Direction::maximize, 1.0));
  // Each part really read its own rows' channels: channel 1 in rows 1 and 2 is not channel 0.
  const BoundObjective one = bind_objective(spec, m);
  EXPECT_FALSE(at::allclose(parted.input_grad,
                            split.run(m, one, input, Direction::maximize, 1.0).input_grad));
}

TEST(RowSplit, AFailingPartReachesTheCallerAndTheThreadsStayAsTheyWere) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const int before = at::get_num_threads();
  {
    RowSplit split(2, 8);
    const BoundObjective ink = bind_objective(ObjectiveSpec{}, m);
    auto shape = m.batch_shape(8);
    shape[1] = 3;  // three channels for a model of one
    const auto wrong = at::rand(shape);
    try {
      split.run(m, ink, wrong, Direction::maximize, 1.0);
      FAIL() << "a wrong input shape must fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::model);
    }
    // The split still works after a failure.
    const auto input = test::noise_batch(m, 8, 1);
    expect_same_pass(split.run(m, ink, input, Direction::maximize, 1.0),
                     whole(m, ink, input, Direction::maximize, 1.0));
  }
  EXPECT_EQ(at::get_num_threads(), before);
}

// The optimization with and without the split, on two threads: the same volumes, whatever lies
// between the volume and the model (a Fourier volume, jitter, regularizers) or not (pixels).
TEST(RowSplit, OptimizationGivesTheSameVolumesSplitOrNot) {
  const ThreadCount two(2);
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto start = test::noise_batch(m, 8, 4);
  OptimizeOptions plain;
  plain.steps = 15;
  OptimizeOptions shaped = plain;
  shaped.param = ParamKind::fourier;
  shaped.regularizers.jitter = 1;
  shaped.regularizers.tv = 0.05;
  shaped.regularizers.l2 = 0.1;
  OptimizeOptions seed_rule = plain;  // loss averaged over the batch
  seed_rule.rule.kind = OptimizerKind::seed;
  seed_rule.regularizers.tv = 0.05;  // a regularizer on the volume the model sees as it is
  for (auto o : {plain, shaped, seed_rule}) {
    o.split_batch = false;
    const auto whole_batch = optimize_input(m, start, o);
    o.split_batch = true;
    const auto split = optimize_input(m, start, o);
    EXPECT_LT((split.result - whole_batch.result).abs().max().item<double>(), 1e-4);
    EXPECT_GT((split.result - split.start).abs().max().item<double>(), 1e-3);  // it moved
    for (std::size_t i = 0; i < split.final_scores.size(); ++i)
      EXPECT_NEAR(split.final_scores[i].logit, whole_batch.final_scores[i].logit, 1e-3);
  }
  EXPECT_EQ(at::get_num_threads(), 2);
}

}  // namespace
}  // namespace inkgen
