#include "inkgen/optimize/progress_watch.hpp"

#include <cstdio>

namespace inkgen {

namespace {

std::string format(const char* pattern, double a, double b = 0, double c = 0) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, pattern, a, b, c);
  return buffer;
}

}  // namespace

ProgressWatch::ProgressWatch(Direction direction, bool stops_at_target)
    : maximize_(direction == Direction::maximize), stops_at_target_(stops_at_target) {}

std::vector<std::string> ProgressWatch::notes(const StepReport& r) {
  std::vector<std::string> out;
  if (r.scores.empty()) return out;
  if (r.first_start != first_start_ || r.step < last_step_) {
    last_logit_.reset();
    best_p_.reset();
  }
  first_start_ = r.first_start;
  last_step_ = r.step;
  double logit = 0, p = 0;
  for (const auto& s : r.scores) {
    logit += s.logit;
    p += s.probability;
  }
  logit /= static_cast<double>(r.scores.size());
  p /= static_cast<double>(r.scores.size());
  // Signed so that "up" is the run's own direction.
  const double sign = maximize_ ? 1.0 : -1.0;

  if (!said_saturated_ && !stops_at_target_ && (maximize_ ? p >= 0.9999 : p <= 0.0001)) {
    said_saturated_ = true;
    out.push_back(format(maximize_ ? "p is %.4f from step %.0f on: it cannot rise further while "
                                     "the logit goes on (%.1f); --stop-at 0.9 ends a run at the "
                                     "target with a smaller change"
                                   : "p is %.4f from step %.0f on: it cannot fall further while "
                                     "the logit goes on (%.1f); --stop-at 0.1 ends a run at the "
                                     "target with a smaller change",
                         p, r.step, logit));
  }
  if (!best_p_ || sign * p > sign * *best_p_) {
    best_p_ = p;
    best_step_ = r.step;
  }
  if (!said_apart_ && last_logit_ && sign * (logit - *last_logit_) > 0 &&
      sign * (*best_p_ - p) > 0.02) {
    said_apart_ = true;
    out.push_back(
        format("p has moved back from %.4f at step %.0f to %.4f while the mean logit "
               "still moves the run's way: some cells gain more logit than others lose "
               "(a mean-logit objective rewards that); --objective bce or --stop-at "
               "follows p instead",
               *best_p_, best_step_, p));
  }
  last_logit_ = logit;
  return out;
}

}  // namespace inkgen
