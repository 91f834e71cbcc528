#include "inkgen/common/run_liveness.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"

namespace inkgen {

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

nlohmann::json process_stamp() {
  return {{"pid", static_cast<long long>(getpid())}, {"host", host_name()}};
}

bool mark_abandoned_run(const std::filesystem::path& run_json) {
  if (!std::ifstream(run_json, std::ios::binary)) return false;
  const std::string text = read_text(run_json);
  nlohmann::json record;
  try {
    record = parse_json_input(text, ErrorKind::input, run_json.string(), "");
  } catch (const Error&) {
    return false;  // not a record we can judge; the caller's own message stands
  }
  if (!record.is_object() || record.value("status", "") != "running") return false;
  const auto process = record.find("process");
  if (process == record.end() || !process->is_object()) return false;
  const auto pid = whole_of(process->value("pid", nlohmann::json()));
  if (!pid || *pid <= 0 || process->value("host", "") != host_name()) return false;
  if (::kill(static_cast<pid_t>(*pid), 0) == 0 || errno != ESRCH) return false;
  record["status"] = "interrupted";
  record["error"] = {{"kind", "interrupted"},
                     {"message", "process " + std::to_string(*pid) +
                                     " ended without finishing this run (killed, or the machine "
                                     "stopped); what it wrote before is kept"}};
  write_text_atomically(run_json, json_text(record, 2) + "\n");
  return true;
}

}  // namespace inkgen
