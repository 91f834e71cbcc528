#include "inkgen/batch/batch_status.hpp"

#include <map>
#include <string>

#include "inkgen/common/json_text.hpp"

namespace inkgen {

namespace {

// Manifest lines come from files: a field of an unexpected type reads as absent.
std::string text_field(const nlohmann::json& line, const char* name) {
  const auto it = line.find(name);
  return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

const char* to_string(JobState state) {
  return enum_name(job_state_names, state);
}

std::map<std::string, const nlohmann::json*> latest_lines(const ManifestLines& manifests) {
  std::map<std::string, const nlohmann::json*> latest;
  const auto time_of = [](const nlohmann::json& line) {
    const auto it = line.find("time_ms");
    return it != line.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  for (const auto& line : manifests.lines) {
    const auto key = line["key"].get<std::string>();
    auto& slot = latest[key];
    // Ties go to the later line: within one file, order is time.
    if (slot == nullptr || time_of(line) >= time_of(*slot)) slot = &line;
  }
  return latest;
}

std::vector<JobStatus> job_states(const std::vector<BatchJob>& jobs,
                                  const ManifestLines& manifests) {
  const auto latest = latest_lines(manifests);
  std::vector<JobStatus> states;
  states.reserve(jobs.size());
  for (const auto& job : jobs) {
    JobStatus status;
    // A segment folder's name that is not UTF-8 is recorded with U+FFFD in its place.
    const auto it = latest.find(recorded_text(job.key));
    if (it != latest.end()) {
      const nlohmann::json& line = *it->second;
      status.line = line;
      const std::string s = text_field(line, "status");
      if (s == "done") {
        status.state =
            text_field(line, "fingerprint") == job.fingerprint ? JobState::done : JobState::changed;
      } else if (s == "interrupted") {
        status.state = JobState::interrupted;
      } else {
        status.state = JobState::failed;
      }
    }
    states.push_back(std::move(status));
  }
  return states;
}

}  // namespace inkgen
