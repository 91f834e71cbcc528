#pragma once

#include <string>

#include "inkgen/batch/batch_run.hpp"

namespace inkgen::cli {

// The progress of a whole batch on stderr: jobs ended of the shard's total, failures, the device
// batch's step, time spent and left. On a terminal it rewrites one line at every report; into a
// file or pipe (a Slurm log) it prints a line when a job ends, not at every step. Silent when
// quiet.
class BatchProgressLine {
 public:
  explicit BatchProgressLine(bool quiet);
  ~BatchProgressLine();
  void report(const BatchProgress& progress);
  // Ends the rewritten line so that what follows starts on a fresh one.
  void finish();

 private:
  bool quiet_;
  bool terminal_;
  bool open_ = false;
  std::size_t last_ended_ = static_cast<std::size_t>(-1);
};

// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

}  // namespace inkgen::cli
