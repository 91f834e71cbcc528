#include "inkgen/io/segment_writer.hpp"

#include <cstdio>
#include <opencv2/core.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/segment.hpp"

namespace inkgen {

namespace fs = std::filesystem;

std::string layer_file_name(int z, int count, const std::string& extension) {
  const int digits = count > 100 ? (count > 1000 ? 4 : 3) : 2;
  char name[16];
  std::snprintf(name, sizeof name, "%0*d", digits, z);
  return name + extension;
}

void write_segment(const fs::path& dir, const RawVolume& volume, const cv::Mat& mask) {
  make_directories(dir / "layers");
  const std::size_t plane = static_cast<std::size_t>(volume.height) * volume.width;
  for (int z = 0; z < volume.depth; ++z) {
    // cv::Mat over our buffer without a copy; imencode only reads it.
    const cv::Mat layer(volume.height, volume.width, CV_16UC1,
                        const_cast<std::uint16_t*>(volume.voxels.data() + z * plane));
    write_image_atomically(dir / "layers" / layer_file_name(z, volume.depth), layer);
  }
  cv::Mat m = mask;
  if (m.empty()) m = cv::Mat(volume.height, volume.width, CV_8UC1, cv::Scalar(255));
  if (m.rows != volume.height || m.cols != volume.width || m.type() != CV_8UC1) {
    throw Error(ErrorKind::internal, "write_segment: mask does not match the volume");
  }
  write_image_atomically(dir / (segment_name(dir) + "_mask.png"), m);
}

}  // namespace inkgen
