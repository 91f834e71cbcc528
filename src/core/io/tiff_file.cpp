#include "inkgen/io/tiff_file.hpp"

#include <cstdarg>
#include <cstdio>

namespace inkgen {

namespace {

#if TIFFLIB_VERSION >= 20221213
int capture(TIFF*, void* user_data, const char* module, const char* fmt, va_list ap) {
  char buffer[512];
  std::vsnprintf(buffer, sizeof buffer, fmt, ap);
  auto* message = static_cast<std::string*>(user_data);
  *message = (module ? std::string(module) + ": " : std::string()) + buffer;
  return 1;  // handled: libtiff prints nothing
}
#endif

}  // namespace

TiffFile::TiffFile(const std::filesystem::path& path, const char* mode)
    : message_(std::make_unique<std::string>()) {
#if TIFFLIB_VERSION >= 20221213
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, capture, message_.get());
  TIFFOpenOptionsSetWarningHandlerExtR(
      options, [](TIFF*, void*, const char*, const char*, va_list) { return 1; }, nullptr);
  tiff_ = TIFFOpenExt(path.c_str(), mode, options);
  TIFFOpenOptionsFree(options);
#else
  // Older libtiff has only process-wide handlers; silence them rather than print to stderr.
  TIFFSetWarningHandler(nullptr);
  TIFFSetErrorHandler(nullptr);
  tiff_ = TIFFOpen(path.c_str(), mode);
#endif
}

TiffFile::~TiffFile() {
  if (tiff_) TIFFClose(tiff_);
}

bool TiffFile::close() {
  if (!tiff_) return false;
  const bool flushed = TIFFFlush(tiff_) == 1;
  TIFFClose(tiff_);
  tiff_ = nullptr;
  return flushed;
}

}  // namespace inkgen
