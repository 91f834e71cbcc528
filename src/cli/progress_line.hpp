#pragma once

#include <optional>
#include <string>

#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/progress_watch.hpp"

namespace inkgen::cli {

// The progress of a long run on stderr: step, ink score, probability and speed, labelled with the
// starts it is of when a run optimizes its starts in several batches. On a terminal it rewrites
// one line; into a file or pipe it prints a line per report. With a watch, what the watch notices
// (a saturated probability, p moving against the logit) follows as a note. Silent when quiet.
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet, std::optional<ProgressWatch> watch = std::nullopt);
  ~ProgressLine();
  void report(const StepReport& report);
  // Ends the rewritten line so that what follows starts on a fresh one.
  void finish();

 private:
  bool quiet_;
  bool terminal_;
  bool open_ = false;
  std::optional<ProgressWatch> watch_;
};

// "starts 4-7 of 16: ", "start 3 of 8: ", or "" when the scores are all of the run's starts.
std::string starts_label(const StepReport& report);

}  // namespace inkgen::cli
