// report_failure: how an exception that ended a command becomes its message and exit code.
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <new>
#include <stdexcept>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

template <typename Throw>
FailureReport report_of(Throw&& throw_it) {
  try {
    throw_it();
  } catch (...) {
    return report_failure(std::current_exception());
  }
  ADD_FAILURE() << "nothing was thrown";
  return {ErrorKind::usage, ""};
}

// A deliberate fault inside inkgen (no user input is wrong) must read as a bug: exit 70 and a
// request to report it, never one of the codes that blame the user's input.
TEST(FailureReport, AnInternalFaultExits70AndAsksForAReport) {
  const auto fault = report_of([] { throw std::logic_error("step count went negative"); });
  EXPECT_EQ(fault.kind, ErrorKind::internal);
  EXPECT_EQ(exit_code(fault.kind), 70);
  EXPECT_EQ(fault.message, "step count went negative; please report this");

  const auto unknown = report_of([] { throw 42; });
  EXPECT_EQ(exit_code(unknown.kind), 70);

  const auto torch_fault = report_of([] { TORCH_CHECK(false, "expected a 5D tensor"); });
  EXPECT_EQ(exit_code(torch_fault.kind), 70);
  EXPECT_EQ(torch_fault.message.rfind("LibTorch: expected a 5D tensor", 0), 0u)
      << torch_fault.message;
}

TEST(FailureReport, InkgensOwnErrorsKeepTheirKindAndMessage) {
  const auto e = report_of([] { throw Error(ErrorKind::model, "the model returns NaN"); });
  EXPECT_EQ(exit_code(e.kind), 4);
  EXPECT_EQ(e.message, "the model returns NaN");
}

TEST(FailureReport, OutOfMemoryIsTheRequestsSizeNotABug) {
  for (const auto& r : {report_of([] { throw std::bad_alloc(); }), report_of([] {
                          TORCH_CHECK(false,
                                      "DefaultCPUAllocator: can't allocate memory: you "
                                      "tried to allocate 99999999999 bytes");
                        })}) {
    EXPECT_EQ(exit_code(r.kind), 2);
    EXPECT_NE(r.message.find("give a smaller --batch"), std::string::npos) << r.message;
  }
}

TEST(FailureReport, ASystemRefusalOfAPathIsTheInputs) {
  const auto r = report_of([] {
    throw std::filesystem::filesystem_error(
        "cannot read", "/data/loop",
        std::make_error_code(std::errc::too_many_symbolic_link_levels));
  });
  EXPECT_EQ(exit_code(r.kind), 3);
  EXPECT_NE(r.message.find("/data/loop"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace inkgen
