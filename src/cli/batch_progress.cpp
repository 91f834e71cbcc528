#include "batch_progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace inkgen::cli {

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lds", s);
  }
  return text;
}

BatchProgressLine::BatchProgressLine(bool quiet)
    : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1) {}

BatchProgressLine::~BatchProgressLine() {
  finish();
}

void BatchProgressLine::report(const BatchProgress& p) {
  if (quiet_) return;
  const std::size_t ended = p.skipped + p.done + p.failed;
  // Into a log, a line per job end is plenty; a step-by-step line would flood it.
  if (!terminal_ && ended == last_ended_) return;
  last_ended_ = ended;
  std::string line = "batch: " + std::to_string(ended) + "/" + std::to_string(p.total) +
                     " jobs ended (" + std::to_string(p.done) + " done, " +
                     std::to_string(p.failed) + " failed, " + std::to_string(p.skipped) +
                     " done before)";
  if (terminal_ && p.running > 0 && p.steps > 0) {
    line += "  " + std::to_string(p.running) + " running: step " + std::to_string(p.step) + "/" +
            std::to_string(p.steps);
  }
  line += "  " + format_duration(p.elapsed) + " elapsed";
  if (p.remaining) line += ", ~" + format_duration(*p.remaining) + " left";
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void BatchProgressLine::finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace inkgen::cli
