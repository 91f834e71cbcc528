#include "inkgen/common/error.hpp"

#include <c10/util/Exception.h>

#include <filesystem>
#include <new>

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

namespace {

// Not a bug in inkgen: the request was larger than this machine.
FailureReport out_of_memory(const std::string& reason) {
  return {ErrorKind::usage,
          "out of memory (" + reason +
              "); give a smaller --batch, fewer crops per run, or a machine with more memory"};
}

}  // namespace

FailureReport report_failure(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  } catch (const c10::Error& e) {
    const std::string reason = short_reason(e);
    if (reason.find("can't allocate memory") != std::string::npos ||
        reason.find("out of memory") != std::string::npos)
      return out_of_memory(reason);
    return {ErrorKind::internal, "LibTorch: " + reason + "; please report this"};
  } catch (const std::bad_alloc&) {
    return out_of_memory("an allocation failed");
  } catch (const std::filesystem::filesystem_error& e) {
    // inkgen's own files go through checked paths; what is left is a user's path that the
    // system refused (a symlink loop, permissions).
    return {ErrorKind::input, std::string(e.what()) + "; check that path"};
  } catch (const std::exception& e) {
    return {ErrorKind::internal, std::string(e.what()) + "; please report this"};
  } catch (...) {
    return {ErrorKind::internal, "an unknown exception; please report this"};
  }
}

}  // namespace inkgen
