#include "inkgen/model/resource_estimate.hpp"

#include <gtest/gtest.h>

#include "inkgen/model/flop_counter.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(ResourceEstimate, PerStartMemoryGrowsWithTheModelsActivations) {
  const InkModel scalar = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  const InkModel map = load_ink_model(test::test_model("tiny-map.pt"), {});
  // Both at least the bookkeeping; the map model (4 channels at 6x16x16) holds more.
  EXPECT_GE(bytes_per_start(scalar), 256 * 1024);
  EXPECT_GT(bytes_per_start(map), bytes_per_start(scalar));
  EXPECT_GT(count_forward(map).operand_values, 6 * 16 * 16) << "the 3D convolution's input";
}

TEST(ResourceEstimate, RefusesABatchThatDoesNotFitAndNamesOneThatDoes) {
  const InkModel model = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  const std::int64_t per_start = bytes_per_start(model);
  const std::int64_t available = 400 * per_start;  // three quarters usable: 300 starts
  EXPECT_NO_THROW(check_starts_fit(model, 300, available));
  try {
    check_starts_fit(model, 100000, available);
    FAIL() << "100000 starts fitted in the memory of 400";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("give --batch 300 or less"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(check_starts_fit(model, 1, 1)) << "one start always runs";
  // Optimized both ways, a start takes two rows: half as many fit.
  EXPECT_NO_THROW(check_starts_fit(model, 150, available, 2));
  try {
    check_starts_fit(model, 200, available, 2);
    FAIL() << "200 starts of two rows fitted in the memory of 400 rows";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("give --batch 150 or less"), std::string::npos)
        << e.what();
  }
}

TEST(ResourceEstimate, OutputThatCannotFitTheDiskIsAnOutputError) {
  const InkModel model = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  test::TempDir tmp;
  EXPECT_NO_THROW(check_output_fits(tmp / "run", model, 4));
  try {
    check_output_fits(tmp / "not" / "yet" / "run", model, std::int64_t{1} << 40);
    FAIL() << "2^40 starts fitted on the disk";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("MiB free"), std::string::npos) << e.what();
  }
}

// --save-every 1 over a million steps wrote a slice stack per step until the disk filled.
TEST(ResourceEstimate, SnapshotsCountTowardsTheOutput) {
  const InkModel model = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  test::TempDir tmp;
  EXPECT_GT(disk_bytes_per_start(model, 10), disk_bytes_per_start(model));
  EXPECT_NO_THROW(check_output_fits(tmp / "run", model, 1, 10));
  for (const std::int64_t snapshots : {std::int64_t{1} << 32, std::int64_t{1} << 62}) {
    try {
      check_output_fits(tmp / "run", model, 1, snapshots);
      FAIL() << snapshots << " snapshots of one start fitted on the disk";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::output);
      EXPECT_NE(std::string(e.what()).find("1 start with " + std::to_string(snapshots) +
                                           " snapshots writes about"),
                std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("a larger --save-every"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace inkgen
