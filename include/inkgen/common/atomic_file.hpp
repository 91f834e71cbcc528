#pragma once

#include <filesystem>
#include <functional>
#include <opencv2/core/mat.hpp>
#include <string>

#include "inkgen/common/error.hpp"

namespace inkgen {

// Writes `path` by having `write` fill a temporary file beside it, then renaming that over
// `path`: a reader, a crash or a kill -9 sees the old file or the new one, never half of one.
// Throws Error(output) naming the path when the folder cannot be written.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temporary)>& write);

void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// PNG, TIFF or JPEG by the path's extension (16-bit TIFF/PNG keep 16 bits).
void write_image_atomically(const std::filesystem::path& path, const cv::Mat& image);

// Creates the folder and its parents; Error(output) when it cannot.
void make_directories(const std::filesystem::path& dir);

// Checks that `path` names a regular file (or a link to one) of at most `max_bytes`, before
// anything opens it: opening a FIFO blocks, and /dev/zero or a device would be read until memory
// runs out. Throws Error(kind) saying what `what` is instead, and that a file is wanted.
void check_input_file(const std::filesystem::path& path, const std::string& what, ErrorKind kind,
                      std::uintmax_t max_bytes);

// The whole file as text ("" when it cannot be opened): the reading side of the above, for the
// small JSON files inkgen reads back (cards, run.json, _synth.json).
std::string read_text(const std::filesystem::path& path);

}  // namespace inkgen
