// Hidden-layer objectives on a model whose channels are known filters (tests/models,
// tiny-features.pt: channel 0 of "edges" is the depth edge, channel 1 the edge along x).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/objective.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::test_model;

const InkModel& edge_model() {
  static const InkModel m = load_ink_model(test_model("tiny-features.pt"), {});
  return m;
}

// A mid-grey volume with a little noise, so that every way is open.
at::Tensor grey(const InkModel& m, int n) {
  at::manual_seed(3);
  const auto shape = m.batch_shape(n);
  return 0.5 + 0.02 * at::randn(shape);
}

OptimizeResult run(const std::string& objective, int steps = 60) {
  OptimizeOptions o;
  o.objective = parse_objective_spec(objective);
  o.steps = steps;
  return optimize_input(edge_model(), grey(edge_model(), 1), o);
}

// The first sample's mean per layer (depth profile) or per column (x profile).
at::Tensor depth_profile(const at::Tensor& v) {
  return v[0][0].mean(at::IntArrayRef{1, 2});
}
at::Tensor x_profile(const at::Tensor& v) {
  return v[0][0].mean(at::IntArrayRef{0, 1});
}

TEST(HiddenObjective, TheModelListsItsLayersWithTheirShapes) {
  const auto& m = edge_model();
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[0].first, "edges");
  EXPECT_EQ(m.layers[0].second, (std::vector<std::int64_t>{2, 6, 16, 16}));
  EXPECT_EQ(m.layers[1].second, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(layers_text(m), "edges [2,6,16,16], pooled [2], output [1,4,4]");
  EXPECT_TRUE(m.frozen);  // freezing kept the features method
  EXPECT_TRUE(load_ink_model(test_model("tiny-map.pt"), {}).layers.empty());
}

TEST(HiddenObjective, MaximizingTheDepthEdgeChannelDrawsADepthEdge) {
  const auto r = run("channel:edges:0");
  const auto d = depth_profile(r.result);
  const auto x = x_profile(r.result);
  // Summed over the volume the channel is the last layer minus the first (zero padding): those
  // two move, to the ends of the range, and nothing else does.
  EXPECT_GT(d[5].item<double>(), 0.95);
  EXPECT_LT(d[0].item<double>(), 0.05);
  for (int z = 1; z < 5; ++z)
    EXPECT_NEAR(d[z].item<double>(), depth_profile(r.start)[z].item<double>(), 1e-6) << z;
  EXPECT_LT((x.max() - x.min()).item<double>(), 0.05);  // no edge along x
  EXPECT_GT(r.final_objective[0], r.start_objective[0] + 0.1);
}

TEST(HiddenObjective, EachChannelDrawsItsOwnFilter) {
  const auto r = run("channel:edges:1");
  const auto d = depth_profile(r.result);
  const auto x = x_profile(r.result);
  EXPECT_GT(x[15].item<double>(), 0.95);
  EXPECT_LT(x[0].item<double>(), 0.05);
  EXPECT_LT((d.max() - d.min()).item<double>(), 0.05);  // no edge in depth
  // Minimized, the same channel draws the opposite edge.
  OptimizeOptions o;
  o.objective = parse_objective_spec("channel:edges:1");
  o.direction = Direction::minimize;
  o.steps = 60;
  const auto down = optimize_input(edge_model(), grey(edge_model(), 1), o);
  EXPECT_LT(x_profile(down.result)[15].item<double>(), 0.05);
  EXPECT_LT(down.final_objective[0], down.start_objective[0] - 0.05);  // the least is -1/16
}

TEST(HiddenObjective, ANeuronChangesOnlyItsReceptiveField) {
  const auto r = run("neuron:edges:1:3,8,8", 20);
  const auto change = (r.result - r.start).abs()[0][0];  // (D, H, W)
  // Channel 1 at (z, y, x) = (3, 8, 8) reads x = 7 and x = 9 of that row and layer only.
  EXPECT_GT(change[3][8][9].item<double>(), 0.01);
  EXPECT_GT(change[3][8][7].item<double>(), 0.01);
  EXPECT_NEAR(change.sum().item<double>(), (change[3][8][9] + change[3][8][7]).item<double>(),
              1e-6);
  // Without a position: the centre, (3, 8, 8) for a (6, 16, 16) layer.
  const auto centre = run("neuron:edges:1", 20);
  EXPECT_TRUE(at::allclose(centre.result, r.result));
}

TEST(HiddenObjective, WeightsAndDirectionsCombineChannels) {
  // Depth edge up, x edge down, by a weighted sum and by a direction in channel space.
  test::TempDir tmp;
  test::write_text(tmp / "dir.json", "[2, -2]");
  const auto sum = run("channel:edges:0 - channel:edges:1");
  const auto dir = run("direction:edges:" + (tmp / "dir.json").string());
  for (const auto* r : {&sum, &dir}) {
    EXPECT_GT(depth_profile(r->result)[5].item<double>(), 0.9);
    EXPECT_LT(x_profile(r->result)[15].item<double>(), 0.1);
    EXPECT_GT(x_profile(r->result)[0].item<double>(), 0.9);
  }
  // The direction is scaled to unit length: its value is the sum's over sqrt 2.
  const double v = dir.final_objective[0], s = sum.final_objective[0];
  EXPECT_NEAR(v * std::sqrt(2.0), s, 1e-3 * std::abs(s));
  // An ink term weighs in like any other: the pooled layer and the output agree here.
  const auto mixed = run("channel:edges:0 - 0.5*logit");
  EXPECT_GT(mixed.final_objective[0], mixed.start_objective[0]);

  // A sum records each term's own value: the depth edge went up, the x edge down, and the
  // weighted term values add up to the objective.
  ASSERT_EQ(sum.objective_terms.size(), 1u);
  const auto& terms = sum.objective_terms[0];
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].term, "channel:edges:0");
  EXPECT_EQ(terms[1].term, "channel:edges:1");
  EXPECT_EQ(terms[1].weight, -1.0);
  EXPECT_GT(terms[0].final, terms[0].start + 0.03);
  EXPECT_LT(terms[1].final, terms[1].start - 0.03);
  EXPECT_NEAR(terms[0].final - terms[1].final, sum.final_objective[0], 1e-6);
  EXPECT_NEAR(terms[0].start - terms[1].start, sum.start_objective[0], 1e-6);
  EXPECT_TRUE(dir.objective_terms.empty());  // one term: its value is the objective's
}

std::string bind_error(const std::string& objective, const std::string& model = "",
                       ErrorKind kind = ErrorKind::usage) {
  const InkModel other = model.empty() ? InkModel{} : load_ink_model(test_model(model), {});
  try {
    bind_objective(parse_objective_spec(objective), model.empty() ? edge_model() : other);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << objective;
    return e.what();
  }
  ADD_FAILURE() << objective << " was bound";
  return "";
}

TEST(HiddenObjective, AWrongLayerChannelOrPositionNamesWhatTheModelHas) {
  EXPECT_NE(bind_error("channel:Mixed_4f:0")
                .find("has no layer 'Mixed_4f'; its layers are edges (2 channels), pooled (2 "
                      "channels), output (1 channels)"),
            std::string::npos);
  EXPECT_NE(bind_error("channel:edges:2").find("has channels 0..1"), std::string::npos);
  EXPECT_NE(bind_error("neuron:edges:0:6,0,0").find("positions of shape (6,16,16)"),
            std::string::npos);
  EXPECT_NE(bind_error("neuron:edges:0:1,2").find("one coordinate per axis"), std::string::npos);
  EXPECT_NE(bind_error("channel:edges:0", "tiny-map.pt").find("exposes none"), std::string::npos);
  test::TempDir tmp;
  test::write_text(tmp / "three.json", "[1, 2, 3]");
  test::write_text(tmp / "zero.json", "[0, 0]");
  test::write_text(tmp / "text.json", "{\"a\": 1}");
  EXPECT_NE(bind_error("direction:edges:" + (tmp / "three.json").string(), "", ErrorKind::input)
                .find("has 3 values, and layer 'edges' has 2 channels"),
            std::string::npos);
  EXPECT_NE(bind_error("direction:edges:" + (tmp / "zero.json").string(), "", ErrorKind::input)
                .find("zero or non-finite"),
            std::string::npos);
  EXPECT_NE(bind_error("direction:edges:" + (tmp / "text.json").string(), "", ErrorKind::input)
                .find("not a JSON list of numbers"),
            std::string::npos);
  EXPECT_NE(bind_error("direction:edges:" + (tmp / "none.npy").string(), "", ErrorKind::input)
                .find("not found"),
            std::string::npos);
}

TEST(HiddenObjective, ReadsANumpyDirection) {
  test::TempDir tmp;
  // numpy.save of np.array([0.5, -1.0], dtype='<f4'), version 1.0.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  header.resize(118 - 1, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(118) + char(0) + header;
  const float values[2] = {0.5f, -1.0f};
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  test::write_text(tmp / "d.npy", bytes);
  EXPECT_EQ(read_direction_file(tmp / "d.npy"), (std::vector<double>{0.5, -1.0}));
  test::write_text(tmp / "bad.npy", bytes.substr(0, 40));
  EXPECT_THROW(read_direction_file(tmp / "bad.npy"), Error);
}

TEST(HiddenObjective, PlainInkObjectivesKeepTheirExactArithmetic) {
  // "logit" through the general path and through sample_loss agree bit for bit, so that runs of
  // today's objectives do not change.
  const auto& m = edge_model();
  const auto x = grey(m, 2);
  const auto pass = run_model(m, x, true);
  const auto plain = bind_objective(parse_objective_spec("bce"), m);
  EXPECT_TRUE(at::equal(objective_loss(plain, pass.output, pass.layers, Direction::minimize),
                        sample_loss(pass.output, Objective::bce, Direction::minimize)));
  // The features method's output is forward's.
  EXPECT_TRUE(at::equal(pass.output, run_model(m, x, false).output));
}

}  // namespace
}  // namespace inkgen
