#include "inkgen/common/error.hpp"

#include <c10/util/Exception.h>

#include "inkgen/common/enum_names.hpp"

namespace inkgen {

Error::Error(ErrorKind kind, const std::string& message)
    : std::runtime_error(message), kind_(kind) {}

int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::usage:
      return 2;
    case ErrorKind::input:
      return 3;
    case ErrorKind::model:
      return 4;
    case ErrorKind::output:
      return 5;
    case ErrorKind::interrupted:
      return 130;
    case ErrorKind::internal:
      return 70;
  }
  return 70;
}

namespace {

// Here, not in error.hpp, which enum_names.hpp includes. internal first: enum_name falls back on
// the first entry.
constexpr EnumNames<ErrorKind, 6> error_kind_names{{{ErrorKind::internal, "internal"},
                                                    {ErrorKind::usage, "usage"},
                                                    {ErrorKind::input, "input"},
                                                    {ErrorKind::model, "model"},
                                                    {ErrorKind::output, "output"},
                                                    {ErrorKind::interrupted, "interrupted"}}};

}  // namespace

const char* to_string(ErrorKind kind) noexcept {
  return enum_name(error_kind_names, kind);
}

std::string short_reason(const std::exception& e) {
  std::string text;
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    text = torch_error->what_without_backtrace();
  } else {
    text = e.what();
  }
  // A TorchScript failure ends with "<Type>Error: <message>" after its traceback.
  for (const char* marker :
       {"RuntimeError: ", "ValueError: ", "AssertionError: ", "IndexError: "}) {
    const auto at = text.rfind(marker);
    if (at != std::string::npos) {
      text = text.substr(at);
      break;
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  const auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  // LibTorch 2.x appends sentences of advice to some errors ("This is an internal miniz error. If
  // you are seeing this error, ..."); the first sentence says what failed.
  constexpr std::size_t longest = 200;
  if (text.size() > longest) {
    const auto stop = text.find(". ");
    if (stop != std::string::npos && stop < longest) {
      text.resize(stop);
    } else {
      text.resize(longest - 3);
      text += "...";
    }
  }
  return text;
}

}  // namespace inkgen
