#pragma once

// What a run will hold in memory and write to disk, decided before it starts, so that `--batch
// 100000` is refused with a number and a fix instead of filling the machine (it took 21.5 of 23 GB,
// then wrote 920,000 files). The estimate is deliberately generous: refusing a run that would have
// fit costs a smaller --batch; admitting one that does not costs the machine.
#include <cstdint>
#include <filesystem>
#include <optional>

#include "inkgen/model/ink_model.hpp"

namespace inkgen {

// Bytes one start needs while it is optimized: its volume and the optimizer's copies of it, the
// activations the model keeps for the backward pass (counted from one forward pass), its output,
// and inkgen's own per-start bookkeeping.
std::int64_t bytes_per_start(const InkModel& model);

// Memory the system can still give (Linux MemAvailable); nullopt where it cannot be read.
std::optional<std::int64_t> available_memory_bytes();

// Throws Error(usage) when `together` starts at bytes_per_start each will not fit in
// `available` (the system's, when not given), naming the largest --batch that would. A start
// optimized both ways (--change-sign auto) takes `rows_each` = 2 rows of the batch.
void check_starts_fit(const InkModel& model, std::int64_t together,
                      std::optional<std::int64_t> available = std::nullopt,
                      std::int64_t rows_each = 1);

// Bytes one start writes under --out (slice stacks, volumes, montage, records, and `snapshots`
// --save-every slice stacks), and the check that `starts` of them fit the free space of the disk
// that will hold `out` (Error(output) if not).
std::int64_t disk_bytes_per_start(const InkModel& model, std::int64_t snapshots = 0);
void check_output_fits(const std::filesystem::path& out, const InkModel& model, std::int64_t starts,
                       std::int64_t snapshots = 0);

}  // namespace inkgen
