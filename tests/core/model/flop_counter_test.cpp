#include "inkgen/model/flop_counter.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(FlopCounter, CountsConvolutionsAndLinearLayersFromTheirShapes) {
  // tiny-scalar: Conv3d(1->4, k3) on 4x12x12 gives 2x10x10 outputs; Linear(800 -> 1).
  const InkModel scalar = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  EXPECT_EQ(forward_macs(scalar), 4 * 2 * 10 * 10 * 27 + 800);
  EXPECT_EQ(forward_macs(scalar, 3), 3 * forward_macs(scalar));
  // tiny-map: Conv3d(1->4, k3, pad 1) on 6x16x16; Conv2d(4->4, k3, s2) to 8x8; Conv2d(4->1, k3, s2)
  // to 4x4.
  const InkModel map = load_ink_model(test::test_model("tiny-map.pt"), {});
  EXPECT_EQ(forward_macs(map), 4 * 6 * 16 * 16 * 27 + 4 * 8 * 8 * 4 * 9 + 1 * 4 * 4 * 4 * 9);
}

TEST(FlopCounter, TheSameWhetherFrozenOrNot) {
  LoadOptions unfrozen;
  unfrozen.freeze = Freeze::no;
  EXPECT_EQ(forward_macs(load_ink_model(test::test_model("tiny-map.pt"), unfrozen)),
            forward_macs(load_ink_model(test::test_model("tiny-map.pt"), {})));
}

}  // namespace
}  // namespace inkgen
