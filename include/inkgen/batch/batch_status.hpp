#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inkgen/batch/batch_job.hpp"
#include "inkgen/common/enum_names.hpp"
#include "inkgen/jobs/manifest.hpp"

namespace inkgen {

enum class JobState {
  pending,      // no manifest line: never run, or killed before its line was written
  done,         // its latest line says done, with the options it has now: skipped on resume
  failed,       // its latest line says failed: runs again
  interrupted,  // its latest line says interrupted (SIGINT/SIGTERM): runs again
  changed,      // done, but with other options (its fingerprint differs): runs again
};
inline constexpr EnumNames<JobState, 5> job_state_names{{{JobState::pending, "pending"},
                                                         {JobState::done, "done"},
                                                         {JobState::failed, "failed"},
                                                         {JobState::interrupted, "interrupted"},
                                                         {JobState::changed, "changed"}}};
const char* to_string(JobState state);

// Each job key's latest line (by its time_ms; the later line on a tie), pointing into
// `manifests`.
std::map<std::string, const nlohmann::json*> latest_lines(const ManifestLines& manifests);

struct JobStatus {
  JobState state = JobState::pending;
  nlohmann::json line;  // its latest manifest line; null when it has none
};

// Each job's state from the latest manifest line for its key (the latest by the line's time_ms,
// then by order), across all the manifests given.
std::vector<JobStatus> job_states(const std::vector<BatchJob>& jobs,
                                  const ManifestLines& manifests);

}  // namespace inkgen
