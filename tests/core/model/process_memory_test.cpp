#include "inkgen/model/process_memory.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace inkgen {
namespace {

TEST(ProcessMemory, SeesAnAllocationTouched) {
  const double before = resident_mib();
  EXPECT_GT(before, 1.0);
  std::vector<char> block(64 << 20, 1);
  EXPECT_GT(resident_mib(), before + 50);
  EXPECT_GE(peak_resident_mib(), resident_mib() - 1);
  EXPECT_EQ(peak_device_mib(c10::Device(c10::kCPU)), 0.0);
  EXPECT_EQ(block[12345], 1);
}

}  // namespace
}  // namespace inkgen
