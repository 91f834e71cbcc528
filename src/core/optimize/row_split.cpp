#include "inkgen/optimize/row_split.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "inkgen/common/error.hpp"

namespace inkgen {

std::vector<RowPart> plan_row_parts(int threads, std::int64_t rows) {
  const auto count =
      std::max<std::int64_t>(1, std::min<std::int64_t>(threads, rows / min_rows_per_part));
  std::vector<RowPart> parts;
  std::int64_t begin = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    RowPart p;
    p.begin = begin;
    p.end = begin + rows / count + (k < rows % count ? 1 : 0);
    p.threads = static_cast<int>(threads / count + (k < threads % count ? 1 : 0));
    p.threads = std::max(1, p.threads);
    begin = p.end;
    parts.push_back(p);
  }
  return parts;
}

namespace {

// The objective for rows [begin, end) of a batch of `rows`: channel atlases pick one channel per
// row, so the part gets its rows' channels.
BoundObjective part_objective(const BoundObjective& objective, std::int64_t rows,
                              const RowPart& part) {
  if (!objective.row_channels.defined()) return objective;
  BoundObjective out = objective;
  at::Tensor channels = objective.row_channels;
  if (channels.size(0) != rows) channels = channels.repeat({rows / channels.size(0)});
  out.row_channels = channels.slice(0, part.begin, part.end);
  return out;
}

}  // namespace

class RowSplit::Team {
  // One long-lived thread with its own LibTorch thread count, running one job at a time.
  class PartThread {
   public:
    explicit PartThread(int threads) : thread_([this, threads] { loop(threads); }) {}
    ~PartThread() {
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      thread_.join();
    }
    PartThread(const PartThread&) = delete;
    PartThread& operator=(const PartThread&) = delete;

    void start(std::function<void()> job) {
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        job_ = std::move(job);
        done_ = false;
        error_ = nullptr;
      }
      wake_.notify_all();
    }

    std::exception_ptr wait() {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return done_; });
      return error_;
    }

   private:
    void loop(int threads) {
      // LibTorch sets a thread's count up on its first use from the process-wide one, which the
      // other part threads are changing too; so that first, then this thread's own.
      (void)at::get_num_threads();
      at::set_num_threads(threads);
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [this] { return stop_ || job_; });
          if (stop_) return;
          job = std::move(job_);
          job_ = nullptr;
        }
        std::exception_ptr error;
        try {
          job();
        } catch (...) {
          error = std::current_exception();
        }
        {
          const std::lock_guard<std::mutex> lock(mutex_);
          error_ = error;
          done_ = true;
        }
        wake_.notify_all();
      }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::function<void()> job_;
    bool done_ = true, stop_ = false;
    std::exception_ptr error_;
    std::thread thread_;  // last: it starts running when constructed
  };

 public:
  explicit Team(const std::vector<RowPart>& parts) {
    for (const auto& p : parts)
      threads_.push_back(std::make_unique<PartThread>(p.threads));
  }
  // Runs job(k) on thread k for every k and waits for all; then rethrows the first failure.
  void run(const std::function<void(std::size_t)>& job) {
    for (std::size_t k = 0; k < threads_.size(); ++k)
      threads_[k]->start([&job, k] { job(k); });
    std::exception_ptr first;
    for (auto& t : threads_) {
      const auto error = t->wait();
      if (!first) first = error;
    }
    if (first) std::rethrow_exception(first);
  }

 private:
  std::vector<std::unique_ptr<PartThread>> threads_;
};

RowSplit::RowSplit(int threads, std::int64_t rows)
    : threads_(threads),
      parts_(plan_row_parts(threads, rows)),
      team_(std::make_unique<Team>(parts_)) {}

RowSplit::~RowSplit() {
  team_.reset();
  // The part threads set the process-wide count that threads started later begin with.
  at::set_num_threads(threads_);
}

RowSplit::Pass RowSplit::run(const InkModel& model, const BoundObjective& objective,
                             const at::Tensor& input, Direction direction, double scale) {
  const std::int64_t rows = input.size(0);
  if (rows != parts_.back().end)
    throw Error(ErrorKind::internal, "a row split got a batch of another size than planned");
  std::vector<at::Tensor> cells(parts_.size()), grads(parts_.size());
  const at::Tensor source = input.detach();
  const at::ThreadLocalState state;  // grad mode and the like, as the caller has them
  team_->run([&](std::size_t k) {
    const at::ThreadLocalStateGuard guard(state);
    const RowPart& p = parts_[k];
    const at::Tensor x = source.slice(0, p.begin, p.end).detach().requires_grad_(true);
    const BoundObjective bound = part_objective(objective, rows, p);
    const auto pass = run_model(model, x, bound.reads_layers);
    const auto losses = objective_loss(bound, pass.output, pass.layers, direction);
    grads[k] = torch::autograd::grad({losses}, {x}, {at::full_like(losses, scale)})[0];
    cells[k] = pass.output.detach();
  });
  return {at::cat(cells), at::cat(grads)};
}

}  // namespace inkgen
