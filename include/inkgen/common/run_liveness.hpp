#pragma once

// Whether the process that wrote a run.json is still running it. A run killed with SIGKILL (or
// by a power cut) cannot write its own end, so its run.json says "running" forever; the next
// inkgen that finds it says so instead. No LibTorch here (output_dir uses it).
#include <filesystem>
#include <nlohmann/json.hpp>

namespace inkgen {

// {"pid": ..., "host": ...} of this process, for a run.json that is about to say "running".
nlohmann::json process_stamp();

// When `run_json` says "running" but the process it names is gone (same host, no such pid),
// rewrites it (atomically) to "interrupted" with an error saying so, and returns true. Anything
// else (no file, not ours, another host, the process alive, unreadable) leaves it and returns
// false.
bool mark_abandoned_run(const std::filesystem::path& run_json);

}  // namespace inkgen
