#include "progress_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace inkgen::cli {

ProgressLine::ProgressLine(bool quiet, std::optional<ProgressWatch> watch)
    : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1), watch_(std::move(watch)) {}

std::string starts_label(const StepReport& r) {
  if (r.total_starts <= r.scores.size()) return "";
  const std::size_t last = r.first_start + r.scores.size() - 1;
  return r.first_start == last
             ? "start " + std::to_string(r.first_start) + " of " + std::to_string(r.total_starts) +
                   ": "
             : "starts " + std::to_string(r.first_start) + "-" + std::to_string(last) + " of " +
                   std::to_string(r.total_starts) + ": ";
}

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
  int used = std::snprintf(line, sizeof line, "%sstep %d/%d  logit %.3f  p %.4f",
                           starts_label(r).c_str(), r.step, r.steps, logit / n, probability / n);
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
  if (watch_) {
    for (const auto& note : watch_->notes(r)) {
      finish();
      std::fprintf(stderr, "note: %s%s\n", starts_label(r).c_str(), note.c_str());
    }
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace inkgen::cli
