#pragma once

#include <string>

#include "inkgen/optimize/optimization.hpp"

namespace inkgen::cli {

// The progress of a long run on stderr: step, ink score, probability and speed. On a terminal it
// rewrites one line; into a file or pipe it prints a line per report. Silent when quiet.
class ProgressLine {
 public:
  ProgressLine(bool quiet, std::string prefix = "");
  ~ProgressLine();
  void report(const StepReport& report);
  // Ends the rewritten line so that what follows starts on a fresh one.
  void finish();

 private:
  bool quiet_;
  bool terminal_;
  bool open_ = false;
  std::string prefix_;
};

}  // namespace inkgen::cli
