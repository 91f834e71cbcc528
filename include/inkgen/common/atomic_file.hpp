#pragma once

#include <filesystem>
#include <functional>
#include <opencv2/core/mat.hpp>
#include <string>

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

// The whole file as text ("" when it cannot be opened): the reading side of the above, for the
// small JSON files inkgen reads back (cards, run.json, _synth.json).
std::string read_text(const std::filesystem::path& path);

}  // namespace inkgen
