#include "inkgen/batch/batch_run.hpp"

#include <chrono>
#include <map>
#include <memory>

#include "inkgen/batch/batch_atlas.hpp"
#include "inkgen/batch/batch_status.hpp"
#include "inkgen/common/atomic_file.hpp"
#include "inkgen/evaluate/depth_check.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/jobs/manifest.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/run/optimization_run.hpp"
#include "inkgen/run/run_record.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Segments opened once per batch (headers only), or the reason they cannot be.
class SegmentCache {
 public:
  const Segment& get(const fs::path& dir, LayerOrder order, int level) {
    const std::string key = dir.string() + (order == LayerOrder::reversed ? "|reversed" : "") +
                            "|" + std::to_string(level);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      Entry entry;
      try {
        entry.segment = std::make_unique<Segment>(open_segment(dir, order, level));
      } catch (const Error& e) {
        entry.error = std::make_unique<Error>(e);
      }
      it = entries_.emplace(key, std::move(entry)).first;
    }
    if (it->second.error) throw *it->second.error;
    return *it->second.segment;
  }

 private:
  struct Entry {
    std::unique_ptr<Segment> segment;
    std::unique_ptr<Error> error;
  };
  std::map<std::string, Entry> entries_;
};

StartVolume job_start(const InkModel& model, const BatchJob& job, SegmentCache& segments) {
  if (job.source == JobSource::noise)
    return noise_start(model.card, job.noise, job.optimize.seed, job.noise_index);
  const Segment& segment = segments.get(job.segment, job.layer_order, job.level);
  const int z0 = job.z0.value_or(model.card.default_z0(segment.layer_count()));
  StartVolume start = segment_start(model.card, segment, job.crop, z0);
  attach_depth_check(model, segment, start, job.depth_check, job.optimize.seed);
  return start;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Runner {
 public:
  Runner(const std::vector<BatchJob>& jobs, ModelCache& models, const BatchOptions& options,
         const BatchCallbacks& callbacks)
      : jobs_(jobs), models_(models), options_(options), callbacks_(callbacks) {}

  BatchSummary run() {
    make_directories(options_.out);
    summary_.manifest = options_.out / manifest_file_name(options_.shard);
    const ShardLayoutLock layout(options_.out, options_.shard);
    ManifestWriter writer(summary_.manifest);  // the locks first, then read what is there
    writer_ = &writer;
    summary_.torn_lines_dropped = writer.dropped_bytes() > 0 ? 1 : 0;
    const ManifestLines manifests = read_manifests(options_.out);
    summary_.torn_lines_dropped += manifests.torn;
    summary_.unreadable_lines = manifests.unreadable;
    const auto states = job_states(jobs_, manifests);

    summary_.planned = jobs_.size();
    std::vector<const BatchJob*> todo;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      if (options_.shard && !options_.shard->contains(jobs_[i].index)) continue;
      ++summary_.selected;
      if (states[i].state == JobState::done) {
        ++summary_.skipped;
      } else {
        todo.push_back(&jobs_[i]);
      }
    }
    progress_.total = summary_.selected;
    progress_.skipped = summary_.skipped;
    report();

    std::size_t next = 0;
    while (next < todo.size()) {
      if (stop_requested()) {
        summary_.stopped = true;
        break;
      }
      // A device batch: the next job and those after it of the same group, up to --batch.
      std::vector<const BatchJob*> group{todo[next++]};
      if (!group.front()->failure) {
        while (next < todo.size() && group.size() < static_cast<std::size_t>(options_.batch) &&
               !todo[next]->failure && todo[next]->group == group.front()->group) {
          group.push_back(todo[next++]);
        }
      }
      run_group(group, true);
      if (summary_.stopped) break;
    }
    summary_.not_run = summary_.selected - summary_.skipped - summary_.done - summary_.failed -
                       summary_.interrupted;
    summary_.atlases = write_batch_atlases(jobs_, options_.out);
    summary_.seconds = elapsed();
    writer_ = nullptr;
    return summary_;
  }

 private:
  bool stop_requested() const { return callbacks_.stop && callbacks_.stop->load(); }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

  void report() {
    if (!callbacks_.on_progress) return;
    progress_.elapsed = elapsed();
    const std::size_t ended = progress_.done + progress_.failed;
    const std::size_t left = progress_.total - progress_.skipped - ended;
    if (ended > 0) progress_.remaining = progress_.elapsed / static_cast<double>(ended) * left;
    callbacks_.on_progress(progress_);
  }

  void record(const BatchJob& job, RunStatus status, const nlohmann::json& run_record,
              const std::optional<JobError>& error) {
    nlohmann::json line = {{"key", job.key},
                           {"index", job.index},
                           {"jobs_line", job.line},
                           {"status", to_string(status)},
                           {"fingerprint", job.fingerprint},
                           {"mode", to_string(job.direction)},
                           {"source", to_string(job.source)},
                           {"folder", job.key},
                           {"finished_at", utc_now()},
                           {"time_ms", unix_ms()},
                           {"shard", options_.shard ? options_.shard->text() : "0/1"}};
    if (job.source == JobSource::segment) {
      line["segment"] = job.segment.string();
      // The manifest names one crop per job ("auto" for a segment that could not be tiled).
      const auto& crops = job.options.value("crops", nlohmann::json());
      line["crop"] = crops.is_array() && crops.size() == 1 ? crops[0] : nlohmann::json("auto");
    } else {
      line["noise_index"] = job.noise_index;
    }
    if (!job.atlas.empty()) {
      line["atlas"] = job.atlas;
      line["channel"] = job.channel;
    }
    if (run_record.is_object() && run_record.contains("starts") && !run_record["starts"].empty()) {
      const auto& start = run_record["starts"][0];
      for (const char* k :
           {"start_score", "final_score", "objective", "steps_done", "reached_stop_at", "seconds"})
        if (start.contains(k)) line[k] = start[k];
      // One manifest holds every crop's depth check, for a table over a whole batch.
      if (start.contains("source") && start["source"].contains("depth_check"))
        line["depth_check"] = start["source"]["depth_check"];
    }
    if (error) line["error"] = {{"kind", to_string(error->kind)}, {"message", error->message}};
    writer_->append(line);
    switch (status) {
      case RunStatus::done:
        ++summary_.done;
        ++progress_.done;
        break;
      case RunStatus::failed:
        ++summary_.failed;
        ++progress_.failed;
        break;
      case RunStatus::interrupted:
        ++summary_.interrupted;
        summary_.stopped = true;
        break;
    }
    summary_.lines.push_back(line);
    if (callbacks_.on_job_end) callbacks_.on_job_end(line);
  }

  void fail(const BatchJob& job, const Error& e, const nlohmann::json& run_record = {}) {
    record(job, RunStatus::failed, run_record, JobError{e.kind(), e.what()});
  }

  RunSpec spec_for(const BatchJob& job) const {
    RunSpec spec;
    spec.source = to_string(job.source);
    spec.optimize = job.optimize;
    spec.batch = options_.batch;
    spec.out = options_.out / job.key;
    // A rerun replaces its own partial folder, temporaries of a killed write included.
    spec.overwrite = Overwrite::allow;
    spec.options = job.options;
    spec.options["out"] = spec.out.string();
    spec.options["batch"] = options_.batch;
    spec.options["jobs_file"] = options_.jobs_file;
    spec.options["key"] = job.key;
    spec.options["index"] = job.index;
    return spec;
  }

  // `retry`: a device batch of several jobs that fails as a whole runs again job by job.
  void run_group(const std::vector<const BatchJob*>& group, bool retry) {
    if (group.front()->failure) {
      const auto& f = *group.front()->failure;
      record(*group.front(), RunStatus::failed, {}, f);
      report();
      return;
    }
    const InkModel* model = nullptr;
    try {
      model = &models_.get(group.front()->model);
    } catch (const Error& e) {
      for (const auto* job : group)
        fail(*job, e);
      report();
      return;
    }
    std::vector<const BatchJob*> ready;
    std::vector<StartVolume> starts;
    std::vector<RunSpec> specs;
    for (const auto* job : group) {
      try {
        starts.push_back(job_start(*model, *job, segments_));
        specs.push_back(spec_for(*job));
        ready.push_back(job);
      } catch (const Error& e) {
        fail(*job, e);
      } catch (const std::exception& e) {
        fail(*job, Error(ErrorKind::input,
                         "cannot read the start of " + job->key + ": " + short_reason(e)));
      }
    }
    if (ready.empty()) {
      report();
      return;
    }
    OptimizeCallbacks callbacks;
    callbacks.stop = callbacks_.stop;
    callbacks.on_report = [this](const StepReport& r) {
      progress_.step = r.step;
      progress_.steps = r.steps;
      report();
    };
    progress_.running = ready.size();
    progress_.step = 0;
    progress_.steps = ready.front()->optimize.steps;
    std::vector<RunOutcome> outcomes;
    try {
      try {
        outcomes = run_optimizations_together(*model, starts, specs, callbacks);
      } catch (...) {
        // Sorted as the CLI sorts it (out of memory is the request's size, the rest a bug), but
        // it fails these jobs, not the batch.
        const auto failure = report_failure(std::current_exception());
        throw Error(failure.kind, failure.message);
      }
    } catch (const Error& e) {
      progress_.running = 0;
      if (retry && ready.size() > 1) {
        for (const auto* job : ready) {
          if (stop_requested()) {
            summary_.stopped = true;
            return;
          }
          run_group({job}, false);
        }
        return;
      }
      for (const auto* job : ready)
        fail(*job, e);
      report();
      return;
    }
    progress_.running = 0;
    for (std::size_t k = 0; k < ready.size(); ++k) {
      const auto& o = outcomes[k];
      std::optional<JobError> error;
      if (o.error) error = JobError{o.error->kind(), o.error->what()};
      record(*ready[k], o.status, o.record, error);
    }
    report();
  }

  const std::vector<BatchJob>& jobs_;
  ModelCache& models_;
  const BatchOptions& options_;
  const BatchCallbacks& callbacks_;
  SegmentCache segments_;
  ManifestWriter* writer_ = nullptr;
  BatchSummary summary_;
  BatchProgress progress_;
  const Clock::time_point t0_ = Clock::now();
};

}  // namespace

BatchSummary run_batch(const std::vector<BatchJob>& jobs, ModelCache& models,
                       const BatchOptions& options, const BatchCallbacks& callbacks) {
  if (options.batch < 1) {
    throw Error(ErrorKind::usage,
                "--batch must be at least 1, got " + std::to_string(options.batch));
  }
  Runner runner(jobs, models, options, callbacks);
  return runner.run();
}

}  // namespace inkgen
