#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace inkgen {

// Every failure the core reports is one of these classes; the CLI maps each to its own exit code
// so that batch scripts can tell a bad crop from a broken model without parsing messages.
enum class ErrorKind {
  usage,        // a wrong option or argument
  input,        // a segment, layer, mask, crop or jobs file that cannot be used
  model,        // a model file or card that cannot be loaded or run
  output,       // a path that cannot be written, or an existing run in the way
  interrupted,  // stopped by SIGINT/SIGTERM
  internal,     // a bug in inkgen
};

// The one exception type of the project. The message is one line: the problem, then the fix.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Documented exit codes (README "Exit codes").
int exit_code(ErrorKind kind) noexcept;
const char* to_string(ErrorKind kind) noexcept;

// The one line of a foreign exception worth showing a user: LibTorch's messages carry a backtrace
// and, for TorchScript, the interpreter's traceback before the actual error.
std::string short_reason(const std::exception& e);

// What the CLI tells a user about an exception that ended a command: inkgen's own errors as they
// are; the system's and LibTorch's sorted into the kind they really are (out of memory is a
// request too large for the machine, a refused path is the user's), and anything else is
// `internal`, a bug in inkgen, with "please report this".
struct FailureReport {
  ErrorKind kind;
  std::string message;
};
FailureReport report_failure(const std::exception_ptr& failure);

// Exit code of a batch in which some jobs failed while the batch itself ran to its end.
inline constexpr int exit_jobs_failed = 1;

}  // namespace inkgen
