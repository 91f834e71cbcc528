// A preload library for tests: logs every file the process opens for writing, so that a test can
// check that inkgen writes its outputs only through write_atomically's temporaries (a file written
// in place would be half a file after a crash). Set INKGEN_WRITE_LOG to the log's path and
// LD_PRELOAD to this library. Each line is "write PATH" or "append PATH" (O_APPEND, fopen "a").
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using open_fn = int (*)(const char*, int, ...);
using openat_fn = int (*)(int, const char*, int, ...);
using fopen_fn = FILE* (*)(const char*, const char*);

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

std::string absolute(int dirfd, const char* path) {
  if (path[0] == '/') return path;
  char base[PATH_MAX] = {};
  if (dirfd == AT_FDCWD) {
    if (!::getcwd(base, sizeof base)) return path;
  } else {
    const std::string link = "/proc/self/fd/" + std::to_string(dirfd);
    const ssize_t n = ::readlink(link.c_str(), base, sizeof base - 1);
    if (n <= 0) return path;
    base[n] = '\0';
  }
  return std::string(base) + "/" + path;
}

void log_open(int dirfd, const char* path, bool append) {
  const char* log = std::getenv("INKGEN_WRITE_LOG");
  if (!log || !path) return;
  static const open_fn real_open = next<open_fn>("open");
  const std::string line = (append ? "append " : "write ") + absolute(dirfd, path) + "\n";
  const int fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // One write of a short line with O_APPEND: lines of concurrent threads do not interleave.
  [[maybe_unused]] const ssize_t written = ::write(fd, line.data(), line.size());
  ::close(fd);
}

bool writes(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0;
}

void log_flags(int dirfd, const char* path, int flags) {
  if (writes(flags)) log_open(dirfd, path, (flags & O_APPEND) != 0);
}

void log_mode(const char* path, const char* mode) {
  if (mode && std::strpbrk(mode, "wa+")) log_open(AT_FDCWD, path, std::strchr(mode, 'a'));
}

mode_t mode_of(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(args, int)) : 0;
}

}  // namespace

extern "C" {

#define INKGEN_LOG_OPEN(name)                         \
  int name(const char* path, int flags, ...) {        \
    static const open_fn real = next<open_fn>(#name); \
    va_list args;                                     \
    va_start(args, flags);                            \
    const mode_t mode = mode_of(flags, args);         \
    va_end(args);                                     \
    log_flags(AT_FDCWD, path, flags);                 \
    return real(path, flags, mode);                   \
  }
INKGEN_LOG_OPEN(open)
INKGEN_LOG_OPEN(open64)

#define INKGEN_LOG_OPENAT(name)                           \
  int name(int dirfd, const char* path, int flags, ...) { \
    static const openat_fn real = next<openat_fn>(#name); \
    va_list args;                                         \
    va_start(args, flags);                                \
    const mode_t mode = mode_of(flags, args);             \
    va_end(args);                                         \
    log_flags(dirfd, path, flags);                        \
    return real(dirfd, path, flags, mode);                \
  }
INKGEN_LOG_OPENAT(openat)
INKGEN_LOG_OPENAT(openat64)

// _FORTIFY_SOURCE's checked variants, which callers built with it reach instead, and creat.
#define INKGEN_LOG_OPEN2(name)                                       \
  int name(const char* path, int flags) {                            \
    static const auto real = next<int (*)(const char*, int)>(#name); \
    log_flags(AT_FDCWD, path, flags);                                \
    return real(path, flags);                                        \
  }
INKGEN_LOG_OPEN2(__open_2)
INKGEN_LOG_OPEN2(__open64_2)

#define INKGEN_LOG_CREAT(name)                                          \
  int name(const char* path, mode_t mode) {                             \
    static const auto real = next<int (*)(const char*, mode_t)>(#name); \
    log_open(AT_FDCWD, path, false);                                    \
    return real(path, mode);                                            \
  }
INKGEN_LOG_CREAT(creat)
INKGEN_LOG_CREAT(creat64)

#define INKGEN_LOG_FOPEN(name)                          \
  FILE* name(const char* path, const char* mode) {      \
    static const fopen_fn real = next<fopen_fn>(#name); \
    log_mode(path, mode);                               \
    return real(path, mode);                            \
  }
INKGEN_LOG_FOPEN(fopen)
INKGEN_LOG_FOPEN(fopen64)

}  // extern "C"
