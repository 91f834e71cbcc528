// The README's promise that a run's memory does not grow with its number of steps: nothing of a
// step (its graph, its gradient, a copy of the volume) may outlive it.
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace inkgen {
namespace {

// Peak resident memory of a whole maximize run on the bundled model, in KiB.
long peak_of_run(const test::TempDir& tmp, int steps) {
  test::BackgroundInkgen run({"maximize", "--from", "noise", "--steps", std::to_string(steps),
                              "--stop-at", "off", "--threads", "1", "--quiet", "--out",
                              (tmp / ("steps-" + std::to_string(steps))).string()});
  const auto r = run.finish();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.peak_rss_kib;
}

TEST(CliPeakMemory, FourTimesTheStepsNeedNoMoreMemory) {
  const test::TempDir tmp;
  const long n = peak_of_run(tmp, 10);
  const long four_n = peak_of_run(tmp, 40);
  ASSERT_GT(n, 0);
  // One step of the bundled model allocates tens of MiB: 30 steps kept alive would be hundreds.
  // The margin allows for the allocator's slack, not for anything per step.
  EXPECT_LT(four_n, n + n / 20 + 32 * 1024)
      << "peak " << n / 1024 << " MiB over 10 steps, " << four_n / 1024 << " MiB over 40";
}

}  // namespace
}  // namespace inkgen
