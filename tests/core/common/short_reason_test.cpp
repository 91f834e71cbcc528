// short_reason: the one line of a library's exception that an error message quotes.
#include <gtest/gtest.h>

#include <stdexcept>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(ShortReason, KeepsTheFirstLineOfAMessage) {
  EXPECT_EQ(short_reason(std::runtime_error("shape mismatch\nat frame 3\n")), "shape mismatch");
}

TEST(ShortReason, KeepsTheFinalErrorOfATorchScriptTraceback) {
  EXPECT_EQ(short_reason(std::runtime_error("Traceback:\n  File \"code\", line 9\n"
                                            "RuntimeError: expected 5D input\n")),
            "RuntimeError: expected 5D input");
}

TEST(ShortReason, DropsTheAdviceThatLibTorch2AppendsToALongMessage) {
  // What LibTorch 2.15 says of a file that is not a zip archive.
  const std::string said =
      "PytorchStreamReader failed reading zip archive: not a ZIP archive. This is an internal "
      "miniz error. If you are seeing this error, there is a high likelihood that your checkpoint "
      "file is corrupted. Try re-saving the checkpoint or check the disk for data corruption and "
      "file system errors.";
  EXPECT_EQ(short_reason(std::runtime_error(said)),
            "PytorchStreamReader failed reading zip archive: not a ZIP archive");
}

TEST(ShortReason, CutsALongSentenceAtTwoHundredCharacters) {
  const std::string reason = short_reason(std::runtime_error(std::string(500, 'x')));
  EXPECT_EQ(reason.size(), 200u);
  EXPECT_EQ(reason.substr(197), "...");
}

}  // namespace
}  // namespace inkgen
