#include "inkgen/output_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "inkgen/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;

TEST(OutputDir, CreatesAMissingFolder) {
  test::TempDir tmp;
  prepare_output_dir(tmp / "a" / "b", Overwrite::refuse);
  EXPECT_TRUE(fs::is_directory(tmp / "a" / "b"));
}

TEST(OutputDir, RefusesAnExistingRunWithoutForce) {
  test::TempDir tmp;
  fs::create_directories(tmp / "out");
  std::ofstream(tmp / "out" / "run.json") << "{}";
  try {
    prepare_output_dir(tmp / "out", Overwrite::refuse);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos);
  }
  EXPECT_TRUE(fs::exists(tmp / "out" / "run.json"));  // nothing lost
}

TEST(OutputDir, ForceRemovesOnlyInkgensOwnFiles) {
  test::TempDir tmp;
  const fs::path out = tmp / "out";
  fs::create_directories(out / "result");
  fs::create_directories(out / "003");
  std::ofstream(out / "003" / "run.json") << "{}";
  std::ofstream(out / "run.json") << "{}";
  std::ofstream(out / "notes.txt") << "mine";
  fs::create_directories(out / "123456");  // not a start folder of ours
  prepare_output_dir(out, Overwrite::allow);
  EXPECT_FALSE(fs::exists(out / "result"));
  EXPECT_FALSE(fs::exists(out / "003"));
  EXPECT_FALSE(fs::exists(out / "run.json"));
  EXPECT_TRUE(fs::exists(out / "notes.txt"));
  EXPECT_TRUE(fs::exists(out / "123456"));
}

TEST(OutputDir, AFileInTheWay) {
  test::TempDir tmp;
  std::ofstream(tmp / "f") << "x";
  EXPECT_THROW(prepare_output_dir(tmp / "f", Overwrite::allow), Error);
}

}  // namespace
}  // namespace inkgen
