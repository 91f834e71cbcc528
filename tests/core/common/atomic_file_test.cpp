#include "inkgen/common/atomic_file.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(AtomicFile, WritesAndLeavesNoTemporary) {
  test::TempDir tmp;
  write_text_atomically(tmp / "a.json", "{\"x\": 1}");
  EXPECT_EQ(test::read_file(tmp / "a.json"), "{\"x\": 1}");
  write_text_atomically(tmp / "a.json", "new");
  EXPECT_EQ(test::read_file(tmp / "a.json"), "new");
  EXPECT_EQ(entries(tmp.path()), 1u);
}

TEST(AtomicFile, AFailedWriteKeepsTheOldFile) {
  test::TempDir tmp;
  write_text_atomically(tmp / "a.txt", "old");
  EXPECT_THROW(write_atomically(tmp / "a.txt",
                                [](const fs::path& t) {
                                  std::ofstream(t) << "half";
                                  throw Error(ErrorKind::output, "disk full");
                                }),
               Error);
  EXPECT_EQ(test::read_file(tmp / "a.txt"), "old");
  EXPECT_EQ(entries(tmp.path()), 1u);  // the temporary is gone too
}

TEST(AtomicFile, UnwritableFolderIsAnOutputError) {
  if (::geteuid() == 0) {
    // root ignores permission bits; use a path under a file instead.
    test::TempDir tmp;
    std::ofstream(tmp / "file") << "x";
    try {
      write_text_atomically(tmp / "file" / "a.txt", "x");
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::output);
      EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos);
    }
    return;
  }
  test::TempDir tmp;
  fs::permissions(tmp.path(), fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(write_text_atomically(tmp / "a.txt", "x"), Error);
}

}  // namespace
}  // namespace inkgen
