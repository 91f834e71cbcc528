#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/optimize/optimization.hpp"
#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// Reads a run's progress reports as a person watching them would, and says (once each) what the
// bare numbers do not: that the probability has saturated while the logit goes on (and that
// --stop-at would have ended the run there), and that the probability is moving against the
// objective (the mean logit rising while p falls: some cells gain, more of them lose).
class ProgressWatch {
 public:
  ProgressWatch(Direction direction, bool stops_at_target);
  // The notes this report gives rise to; each kind is said at most once per run.
  std::vector<std::string> notes(const StepReport& report);

 private:
  bool maximize_;
  bool stops_at_target_;
  bool said_saturated_ = false;
  bool said_apart_ = false;
  std::optional<double> last_logit_, best_p_;
  int best_step_ = 0;
  // The batch of starts the numbers above are of: a run of several batches starts over at step 1.
  std::size_t first_start_ = 0;
  int last_step_ = 0;
};

}  // namespace inkgen
