#include "inkgen/run/slice_stack_writer.hpp"

#include <ATen/ATen.h>

#include <opencv2/core.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/io/segment_writer.hpp"

namespace inkgen {

cv::Mat slice_to_gray8(const at::Tensor& slice, double lo, double hi) {
  const auto levels =
      ((slice.to(at::kCPU, at::kFloat) - lo) * (255.0 / (hi - lo))).round_().clamp_(0, 255);
  const auto bytes = levels.to(at::kByte).contiguous();
  return cv::Mat(static_cast<int>(bytes.size(0)), static_cast<int>(bytes.size(1)), CV_8UC1,
                 bytes.data_ptr<uint8_t>())
      .clone();
}

void write_slice_stack(const std::filesystem::path& dir, const at::Tensor& volume, double lo,
                       double hi) {
  make_directories(dir);
  const auto v = volume.dim() == 4 ? volume.select(0, 0) : volume;
  const int depth = static_cast<int>(v.size(0));
  for (int z = 0; z < depth; ++z) {
    write_image_atomically(dir / layer_file_name(z, depth, ".png"),
                           slice_to_gray8(v.select(0, z), lo, hi));
  }
}

}  // namespace inkgen
