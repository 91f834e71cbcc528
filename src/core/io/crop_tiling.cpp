#include "inkgen/io/crop_tiling.hpp"

#include <algorithm>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "inkgen/common/error.hpp"

namespace inkgen {

std::vector<Crop> tile_crops(const cv::Mat& mask, int width, int height, const Tiling& tiling) {
  const int w = tiling.crop_width, h = tiling.crop_height;
  const int sx = tiling.stride_x > 0 ? tiling.stride_x : w;
  const int sy = tiling.stride_y > 0 ? tiling.stride_y : h;
  if (w < 1 || h < 1 || tiling.stride_x < 0 || tiling.stride_y < 0) {
    throw Error(ErrorKind::usage, "crop size " + std::to_string(w) + "x" + std::to_string(h) +
                                      " and stride must be positive; check the model's card and "
                                      "\"stride\"");
  }
  if (!mask.empty() && (mask.type() != CV_8UC1 || mask.cols != width || mask.rows != height)) {
    throw Error(ErrorKind::input, "mask is " + std::to_string(mask.cols) + "x" +
                                      std::to_string(mask.rows) + " (type " +
                                      std::to_string(mask.type()) + ") but the segment is " +
                                      std::to_string(width) + "x" + std::to_string(height) +
                                      "; give an 8-bit mask of the segment's size");
  }
  std::vector<Crop> crops;
  // Per band of rows: which columns are inside for all the band's rows, then a running count of
  // inside columns, so that each crop is checked in O(1) and memory stays one row wide whatever
  // the segment's size.
  std::vector<unsigned char> column_inside(static_cast<std::size_t>(std::max(width, 0)));
  std::vector<int> inside_before(column_inside.size() + 1);
  for (long long y = 0; y + h <= height; y += sy) {
    if (!mask.empty()) {
      std::fill(column_inside.begin(), column_inside.end(), 1);
      for (long long r = y; r < y + h; ++r) {
        const unsigned char* row = mask.ptr<unsigned char>(static_cast<int>(r));
        for (int x = 0; x < width; ++x)
          column_inside[x] &= row[x] > 0 ? 1 : 0;
      }
      for (int x = 0; x < width; ++x)
        inside_before[x + 1] = inside_before[x] + column_inside[x];
    }
    for (long long x = 0; x + w <= width; x += sx) {
      if (!mask.empty() && inside_before[x + w] - inside_before[x] != w) continue;
      crops.push_back({static_cast<int>(x), static_cast<int>(y), static_cast<int>(x + w),
                       static_cast<int>(y + h)});
    }
  }
  return crops;
}

std::vector<Crop> sample_crops(const std::vector<Crop>& crops, int count, std::uint64_t seed) {
  if (count < 0) {
    throw Error(ErrorKind::usage,
                "\"sample\" must be >= 0 crops (0: all), got " + std::to_string(count));
  }
  if (count == 0 || static_cast<std::size_t>(count) >= crops.size()) return crops;
  // A partial Fisher-Yates shuffle of the indices. mt19937_64's output is fixed by the standard;
  // the distributions are not, so the bounded draw is ours (rejection keeps it unbiased).
  std::mt19937_64 rng(seed);
  const auto below = [&rng](std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do {
      r = rng();
    } while (r >= limit);
    return r % n;
  };
  std::vector<std::size_t> index(crops.size());
  for (std::size_t i = 0; i < index.size(); ++i)
    index[i] = i;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
    std::swap(index[i], index[i + below(index.size() - i)]);
  index.resize(static_cast<std::size_t>(count));
  std::sort(index.begin(), index.end());
  std::vector<Crop> chosen;
  for (const auto i : index)
    chosen.push_back(crops[i]);
  return chosen;
}

cv::Mat segment_mask(const Segment& segment) {
  if (!segment.mask) return {};
  cv::Mat mask = read_mask(*segment.mask);
  if (mask.cols == segment.width && mask.rows == segment.height) return mask;
  cv::Mat shrunk;
  cv::resize(mask, shrunk, cv::Size(segment.width, segment.height), 0, 0, cv::INTER_AREA);
  cv::threshold(shrunk, shrunk, 127, 255, cv::THRESH_BINARY);
  return shrunk;
}

cv::Mat read_mask(const std::filesystem::path& path) {
  cv::Mat mask;
  try {
    mask = cv::imread(path.string(), cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception&) {
    mask = cv::Mat();
  }
  if (mask.empty()) {
    throw Error(ErrorKind::input,
                "mask " + path.string() + " cannot be decoded; re-export it as an 8-bit PNG");
  }
  return mask;
}

}  // namespace inkgen
