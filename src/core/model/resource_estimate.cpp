#include "inkgen/model/resource_estimate.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "inkgen/common/error.hpp"
#include "inkgen/model/flop_counter.hpp"

namespace inkgen {

namespace {

// Copies of the input a start holds while optimizing: the volume and its gradient, the
// optimizer's state (two for Adam), the start, the best so far, jitter and blur scratch, the
// snapshot on its way to disk. Counted from optimization.cpp, rounded up.
constexpr std::int64_t volume_copies = 12;
// The backward pass holds a gradient beside each saved activation, and pooling, normalization
// and activation functions keep tensors that the convolution count does not see.
constexpr std::int64_t activation_factor = 4;
// inkgen's per-start bookkeeping (records, traces, montage rows, file buffers): peak RSS grew by
// 126 KiB per start from --batch 2000 to 8000 on a 576-value model (tests/models/tiny-scalar.pt),
// rounded up.
constexpr std::int64_t bookkeeping_bytes = 256 * 1024;

}  // namespace

std::int64_t bytes_per_start(const InkModel& model) {
  const auto shape = model.batch_shape(1);
  const std::int64_t values = shape[1] * shape[2] * shape[3] * shape[4];
  std::int64_t output_values = 1;
  for (const auto d : model.output_shape)
    output_values *= d;
  const ForwardCounts counts = count_forward(model, 1);
  const std::int64_t value_bytes = 4;
  return value_bytes * (volume_copies * values + activation_factor * counts.operand_values +
                        4 * output_values) +
         bookkeeping_bytes;
}

std::optional<std::int64_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

void check_starts_fit(const InkModel& model, std::int64_t together,
                      std::optional<std::int64_t> available, std::int64_t rows_each) {
  if (together <= 1) return;  // one start always runs; a failure then is the model's own size
  if (!model.device.is_cpu()) return;  // a GPU's out-of-memory is caught and explained
  if (!available) available = available_memory_bytes();
  if (!available) return;
  const std::int64_t per_start = bytes_per_start(model) * std::max<std::int64_t>(1, rows_each);
  // Leave a quarter for the model's weights, LibTorch's caches and everything else.
  const std::int64_t usable = *available / 4 * 3;
  if (per_start > 0 && together > usable / per_start) {
    const auto gib = [](std::int64_t bytes) {
      return std::to_string(static_cast<double>(bytes) / (1 << 30)).substr(0, 5);
    };
    throw Error(ErrorKind::usage,
                std::to_string(together) + " starts together need about " +
                    gib(static_cast<std::int64_t>(std::min(
                        9e18, static_cast<double>(per_start) * static_cast<double>(together)))) +
                    " GiB (estimated " + std::to_string(per_start / 1024) + " KiB each) but " +
                    gib(*available) + " GiB are available; give --batch " +
                    std::to_string(std::max<std::int64_t>(1, usable / per_start)) +
                    " or less (starts beyond a batch run one batch after another)");
  }
}

}  // namespace inkgen

namespace inkgen {

std::int64_t disk_bytes_per_start(const InkModel& model, std::int64_t snapshots) {
  const auto shape = model.batch_shape(1);
  const std::int64_t values = shape[1] * shape[2] * shape[3] * shape[4];
  // Three slice stacks (start, result, diff: a file per layer, a filesystem block at least),
  // the float volumes, a montage and records. 8000 starts of a 576-value model took 1.9 GB,
  // 240 KiB each. A snapshot (--save-every) is one more slice stack in a folder of its own.
  const std::int64_t stack = shape[2] * 4096;
  const std::int64_t snapshot = stack + 4096;
  const std::int64_t fixed = 3 * stack + 24 * values + 256 * 1024;
  // Saturate: a million snapshots of a large model must compare as "too many", not wrap.
  if (snapshots > (std::numeric_limits<std::int64_t>::max() - fixed) / snapshot)
    return std::numeric_limits<std::int64_t>::max();
  return fixed + snapshots * snapshot;
}

void check_output_fits(const std::filesystem::path& out, const InkModel& model, std::int64_t starts,
                       std::int64_t snapshots) {
  if (starts <= 1 && snapshots == 0) return;
  std::filesystem::path probe = std::filesystem::absolute(out);
  std::error_code ec;
  while (!probe.empty() && !std::filesystem::exists(probe, ec) && probe != probe.parent_path())
    probe = probe.parent_path();
  struct statvfs fs {};
  if (statvfs(probe.c_str(), &fs) != 0) return;
  const auto free_bytes =
      static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
  const std::int64_t per_start = disk_bytes_per_start(model, snapshots);
  if (starts > free_bytes / per_start) {
    const double mib = static_cast<double>(per_start) * static_cast<double>(starts) / (1 << 20);
    const std::string what =
        std::to_string(starts) + (starts == 1 ? " start" : " starts") +
        (snapshots > 0 ? " with " + std::to_string(snapshots) + " snapshots" : "") +
        (starts == 1 ? " writes" : (snapshots > 0 ? " each write" : " write"));
    throw Error(ErrorKind::output,
                what + " about " + std::to_string(static_cast<long long>(std::min(mib, 1e15))) +
                    " MiB but " + probe.string() + " has " +
                    std::to_string(free_bytes / (1 << 20)) + " MiB free; run fewer starts " +
                    "(--count/--batch)" +
                    (snapshots > 0 ? ", fewer steps or a larger --save-every" : "") +
                    ", or give --out on a larger disk");
  }
}

}  // namespace inkgen
