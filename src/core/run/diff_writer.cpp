#include "inkgen/run/diff_writer.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <opencv2/core.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "inkgen/io/tiff_file.hpp"
#include "inkgen/optimize/volume_tensor.hpp"

namespace inkgen {

nlohmann::json DiffSummary::to_json() const {
  return {{"scale", scale},
          {"max_added", max_added},
          {"max_removed", max_removed},
          {"mean_abs", mean_abs}};
}

DiffSummary summarize_diff(const at::Tensor& diff) {
  DiffSummary s;
  s.max_added = std::max(0.0, diff.max().item<double>());
  s.max_removed = std::max(0.0, -diff.min().item<double>());
  s.mean_abs = diff.abs().mean().item<double>();
  // An unchanged volume still gets a finite scale, so the pictures come out white, not NaN.
  s.scale = std::max({s.max_added, s.max_removed, 1e-12});
  return s;
}

cv::Mat diff_to_colour(const at::Tensor& slice, double scale) {
  const auto t = (slice.to(at::kCPU, at::kFloat) / scale).clamp(-1, 1).contiguous();
  const int h = static_cast<int>(t.size(0)), w = static_cast<int>(t.size(1));
  cv::Mat out(h, w, CV_8UC3);
  const float* p = t.data_ptr<float>();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float v = p[y * w + x];
      const auto fade = static_cast<uint8_t>(std::lround(255.0 * (1.0 - std::abs(v))));
      // BGR: added fades green and blue out (red), removed fades green and red out (blue).
      out.at<cv::Vec3b>(y, x) = v >= 0 ? cv::Vec3b(fade, fade, 255) : cv::Vec3b(255, fade, fade);
    }
  }
  return out;
}

void write_float_tiff_stack(const std::filesystem::path& path, const at::Tensor& volume) {
  const auto v = dhw_on_cpu(volume).contiguous();
  const auto depth = v.size(0), height = v.size(1), width = v.size(2);
  write_atomically(path, [&](const std::filesystem::path& temporary) {
    TiffFile tif(temporary, "w");
    const auto fail = [&] {
      throw Error(ErrorKind::output,
                  "cannot write " + path.string() + " (" + tif.message() +
                      "); check that the folder is writable and the disk not full");
    };
    if (!tif.ok()) fail();
    for (int64_t z = 0; z < depth; ++z) {
      TIFF* t = tif.get();
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(width));
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(height));
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
      TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
      TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(height));
      TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(z), static_cast<uint16_t>(depth));
      const float* page = v.data_ptr<float>() + z * height * width;
      if (TIFFWriteEncodedStrip(t, 0, const_cast<float*>(page),
                                static_cast<tmsize_t>(height * width * 4)) < 0 ||
          !TIFFWriteDirectory(t)) {
        fail();
      }
    }
    if (!tif.close()) fail();
  });
}

DiffSummary write_diff(const std::filesystem::path& out_dir, const at::Tensor& start,
                       const at::Tensor& result) {
  const auto diff = dhw_on_cpu(result) - dhw_on_cpu(start);
  const DiffSummary summary = summarize_diff(diff);
  make_directories(out_dir / "diff");
  const int depth = static_cast<int>(diff.size(0));
  for (int z = 0; z < depth; ++z) {
    write_image_atomically(out_dir / "diff" / layer_file_name(z, depth, ".png"),
                           diff_to_colour(diff.select(0, z), summary.scale));
  }
  write_float_tiff_stack(out_dir / "diff.tif", diff);
  return summary;
}

}  // namespace inkgen
