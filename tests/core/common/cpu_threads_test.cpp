#include "inkgen/common/cpu_threads.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::CommandResult;
using test::run_inkgen;

// Restores the calling thread's CPU affinity and OMP_NUM_THREADS when a test ends.
class AffinityAndEnvGuard {
 public:
  AffinityAndEnvGuard() {
    CPU_ZERO(&saved_);
    sched_getaffinity(0, sizeof(saved_), &saved_);
    if (const char* v = std::getenv("OMP_NUM_THREADS")) omp_ = v;
  }
  ~AffinityAndEnvGuard() {
    sched_setaffinity(0, sizeof(saved_), &saved_);
    if (omp_)
      setenv("OMP_NUM_THREADS", omp_->c_str(), 1);
    else
      unsetenv("OMP_NUM_THREADS");
  }

 private:
  cpu_set_t saved_;
  std::optional<std::string> omp_;
};

int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) return c;
  return 0;
}

TEST(CpuThreads, CountsTheAffinityMaskNotTheMachine) {
  const AffinityAndEnvGuard guard;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_allowed_cpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(usable_cpus(), 1);
}

TEST(CpuThreads, DefaultIsEveryUsableCpuAndExplicitCountsAreBounded) {
  EXPECT_EQ(thread_count(0, 6, false), std::optional<int>(6));
  EXPECT_EQ(thread_count(3, 6, false), std::optional<int>(3));
  EXPECT_EQ(thread_count(0, 6, true), std::nullopt) << "OMP_NUM_THREADS is the user's choice";
  EXPECT_EQ(thread_count(3, 6, true), std::optional<int>(3)) << "--threads beats the environment";
  EXPECT_EQ(thread_count(24, 6, false), std::optional<int>(24));
  EXPECT_THROW(thread_count(25, 6, false), Error);
  EXPECT_EQ(max_threads(100000), 1024);
}

// The whole path: the CLI's default follows the affinity a launcher (taskset, Slurm) gives it.
TEST(CpuThreads, InkgenUsesEveryCpuItMayRunOnByDefault) {
  const AffinityAndEnvGuard guard;
  unsetenv("OMP_NUM_THREADS");
  const auto threads = [] {
    const CommandResult r = run_inkgen({"--json", "info"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out).at("threads").get<int>();
  };
  EXPECT_EQ(threads(), usable_cpus());
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_allowed_cpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(threads(), 1);
  setenv("OMP_NUM_THREADS", "1", 1);
  const CommandResult r = run_inkgen({"--threads", "3", "--json", "info"});
  EXPECT_EQ(nlohmann::json::parse(r.out).at("threads").get<int>(), 3);
}

}  // namespace
}  // namespace inkgen
