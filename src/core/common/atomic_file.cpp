#include "inkgen/common/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void cannot_write(const fs::path& path, const std::string& why) {
  throw Error(
      ErrorKind::output,
      "cannot write " + path.string() + " (" + why +
          "); check that the folder is writable and the disk not full, or choose another --out");
}

fs::path temporary_beside(const fs::path& path) {
  // The pid and a random tag keep concurrent writers (batch shards) from sharing a temporary.
  static thread_local std::mt19937_64 tag(std::random_device{}());
  return path.parent_path() /
         ("." + path.filename().string() + ".partial-" + std::to_string(::getpid()) + "-" +
          std::to_string(tag() % 1000000000));
}

}  // namespace

void make_directories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) cannot_write(dir, ec ? ec.message() : "not a directory");
}

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  const fs::path temporary = temporary_beside(path);
  try {
    write(temporary);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    cannot_write(path, ec.message());
  }
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  write_atomically(path, [&](const fs::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) cannot_write(path, std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) cannot_write(path, std::strerror(errno));
  });
}

void write_image_atomically(const fs::path& path, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  bool encoded = false;
  try {
    encoded = cv::imencode(path.extension().string(), image, bytes);
  } catch (const cv::Exception& e) {
    throw Error(ErrorKind::internal, "cannot encode " + path.string() + ": " + e.what());
  }
  if (!encoded) throw Error(ErrorKind::internal, "cannot encode " + path.string());
  write_text_atomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace inkgen

namespace inkgen {

void check_input_file(const std::filesystem::path& path, const std::string& what, ErrorKind kind,
                      std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  const std::string name = what + " " + excerpt(path.string());
  if (!std::filesystem::exists(status))
    throw Error(kind, name + " not found; give the path of a file");
  if (!std::filesystem::is_regular_file(status)) {
    const char* is = std::filesystem::is_directory(status) ? "a folder"
                     : std::filesystem::is_fifo(status)    ? "a FIFO"
                                                           : "a device or socket";
    throw Error(kind, name + " is " + is + ", not a file; give the path of a file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw Error(kind, name + " is " + std::to_string(size) + " bytes, more than the " +
                          std::to_string(max_bytes) +
                          " it may hold; check that it is the right file");
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace inkgen
