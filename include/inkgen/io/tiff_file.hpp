#pragma once

#include <tiffio.h>

#include <filesystem>
#include <memory>
#include <string>

namespace inkgen {

// An open libtiff handle that closes itself and keeps libtiff's last message, so that a broken
// file becomes one line of ours instead of libtiff's chatter on stderr.
class TiffFile {
 public:
  // mode "r" or "w"; returns an empty handle (ok() false) when libtiff cannot open the file.
  TiffFile(const std::filesystem::path& path, const char* mode);
  ~TiffFile();
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;
  TiffFile(TiffFile&& other) noexcept : message_(std::move(other.message_)), tiff_(other.tiff_) {
    other.tiff_ = nullptr;
  }
  TiffFile& operator=(TiffFile&&) = delete;

  bool ok() const { return tiff_ != nullptr; }
  TIFF* get() const { return tiff_; }
  // libtiff's last error (or warning), "" when it said nothing.
  const std::string& message() const { return *message_; }
  // Flushes and closes; false when the final write failed.
  bool close();

 private:
  std::unique_ptr<std::string> message_;  // stable address: libtiff keeps a pointer to it
  TIFF* tiff_ = nullptr;
};

}  // namespace inkgen
