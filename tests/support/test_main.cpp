// The test binary's main: GoogleTest's, plus an exit code ctest can read as "skipped". ctest runs
// one process per suite; when every test it ran skipped itself (the real-data suites without
// ../shared), the suite must show as skipped, not passed, and a failure must fail it whatever
// else skipped. gtest's --gtest_brief printer writes no phrase a regex could rely on for this.
#include <gtest/gtest.h>

#include <iostream>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  const auto* unit = ::testing::UnitTest::GetInstance();
  if (failed == 0 && unit->test_to_run_count() > 0 &&
      unit->skipped_test_count() == unit->test_to_run_count()) {
    std::cout << "all " << unit->skipped_test_count() << " tests skipped" << std::endl;
    return 77;  // tests/CMakeLists.txt: SKIP_RETURN_CODE
  }
  return failed;
}
