// libFuzzer target: arbitrary bytes as a JOBS file, a manifest, a --shard and a --crop. Each
// parser must answer with its result or an inkgen::Error; anything else (another exception, a
// crash, a sanitizer report) is a bug. Links no LibTorch library but c10 (for inkgen::Error).
#include <cstddef>
#include <cstdint>
#include <string>

#include "inkgen/common/error.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/jobs/jobs_file.hpp"
#include "inkgen/jobs/manifest.hpp"
#include "inkgen/jobs/shard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto jobs = inkgen::parse_jobs_text(text, "fuzz.jsonl");
    for (const auto& job : jobs) {
      if (job.line < 1) __builtin_trap();  // every job names the line it came from
      const auto crops = job.values.find("crops");
      if (crops == job.values.end() || !crops->second.is_array()) continue;
      for (const auto& text : crops->second) {
        const inkgen::Crop crop = inkgen::parse_crop(text.get<std::string>());
        if (crop.x2 <= crop.x1 || crop.y2 <= crop.y1 || crop.x1 < 0 || crop.y1 < 0)
          __builtin_trap();  // parse_crop's guarantees hold for every listed crop
      }
    }
  } catch (const inkgen::Error&) {
  }
  const auto manifest = inkgen::parse_manifest_text(text);
  for (const auto& line : manifest.lines)
    if (!line.is_object() || !line["key"].is_string()) __builtin_trap();
  const std::string first = text.substr(0, text.find('\n'));
  try {
    const auto shard = inkgen::parse_shard(first);
    if (shard.index < 0 || shard.index >= shard.count) __builtin_trap();
  } catch (const inkgen::Error&) {
  }
  try {
    inkgen::parse_crop(first);
  } catch (const inkgen::Error&) {
  }
  return 0;
}
