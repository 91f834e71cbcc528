// The real-data tests skip when ../shared is absent, as they must on a user's machine. CI always
// has it and sets INKGEN_REQUIRE_SHARED=1 (.ci/run), so there a missing or misplaced ../shared is
// a failure rather than a suite of silent skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(SharedData, IsPresentWhereItIsRequired) {
  const char* required = std::getenv("INKGEN_REQUIRE_SHARED");
  const bool must = required != nullptr && std::string(required) == "1";
  const auto dir = test::shared_dir();
  if (!dir) {
    if (must) FAIL() << "INKGEN_REQUIRE_SHARED=1 but ../shared (or $INKGEN_SHARED) is missing";
    GTEST_SKIP() << "no ../shared: the real-data tests skip";
  }
  EXPECT_TRUE(std::filesystem::is_directory(*dir / "models")) << *dir;
  EXPECT_TRUE(std::filesystem::is_directory(*dir / "data")) << *dir;
}

}  // namespace
}  // namespace inkgen
