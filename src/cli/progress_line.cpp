#include "progress_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace inkgen::cli {

ProgressLine::ProgressLine(bool quiet, std::string prefix)
    : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1), prefix_(std::move(prefix)) {}

ProgressLine::~ProgressLine() {
  finish();
}

void ProgressLine::report(const StepReport& r) {
  if (quiet_ || r.scores.empty()) return;
  double logit = 0, probability = 0, worst = r.scores.front().probability, best = worst;
  for (const auto& s : r.scores) {
    logit += s.logit;
    probability += s.probability;
    worst = std::min(worst, s.probability);
    best = std::max(best, s.probability);
  }
  const double n = static_cast<double>(r.scores.size());
  const double rate = r.seconds > 0 ? r.step / r.seconds : 0.0;
  char line[256];
  int used = std::snprintf(line, sizeof line, "%sstep %d/%d  logit %.3f  p %.4f", prefix_.c_str(),
                           r.step, r.steps, logit / n, probability / n);
  if (r.scores.size() > 1) {
    used += std::snprintf(line + used, sizeof line - used, " (mean of %zu, %.4f..%.4f)",
                          r.scores.size(), worst, best);
  }
  std::snprintf(line + used, sizeof line - used, "  %.2f steps/s", rate);
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", line);
    open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line);
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace inkgen::cli
