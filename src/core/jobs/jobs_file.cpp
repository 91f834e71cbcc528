#include "inkgen/jobs/jobs_file.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/options/option_table.hpp"

namespace inkgen {

namespace {

using nlohmann::json;

// The problem with one line of the file, as one line: where, what, and the fix.
struct LineError {
  std::string origin;
  int line;
  [[noreturn]] void operator()(const std::string& problem) const {
    throw Error(ErrorKind::input, origin + " line " + std::to_string(line) + ": " + problem);
  }
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

JobRequest parse_json_line(const std::string& text, int line, const std::string& origin) {
  const LineError fail{origin, line};
  std::vector<std::string> keys;  // the top-level keys in order, repeats included
  json j;
  try {
    j = parse_json_input(text, ErrorKind::input, "a JOBS line", "write one JSON object per line",
                         [&keys](int depth, json::parse_event_t event, json& parsed) {
                           if (depth == 1 && event == json::parse_event_t::key)
                             keys.push_back(parsed.get<std::string>());
                           return true;
                         });
  } catch (const Error& e) {
    fail(e.what());
  }
  if (!j.is_object())
    fail("holds " + excerpt(j) + ", not a JSON object; write one object per line");
  std::set<std::string> seen;
  for (const auto& key : keys) {
    const OptionSpec* option = find_option(key);
    if (option == nullptr || !(option->scopes & in_jobs)) {
      fail("unknown key \"" + excerpt(key) +
           "\"; remove it or fix its name (keys are the single commands' option names, see "
           "configs/README.md)");
    }
    if (!seen.insert(option->key).second) {
      fail("key \"" + excerpt(key) + "\" is given twice (or with another spelling); keep one");
    }
  }
  JobRequest r;
  r.line = line;
  const OptionFailure failure = [&fail](const std::string& problem) { fail(problem); };
  for (const auto& [key, value] : j.items()) {
    if (value.is_null())
      fail("key \"" + excerpt(key) + "\" is null; give it a value, or leave the key out");
    const OptionSpec& option = *find_option(key);
    json checked = check_option_value(option, value, "\"" + key + "\"", failure);
    // "no-clamp": true is "clamp": false.
    if (option.negated_flag && key.rfind("no", 0) == 0) checked = !checked.get<bool>();
    r.values[option.key] = std::move(checked);
  }
  return r;
}

}  // namespace

std::vector<JobRequest> parse_jobs_text(const std::string& text, const std::string& origin) {
  std::vector<JobRequest> jobs;
  std::istringstream in(text);
  std::string raw;
  std::optional<bool> json_lines;  // decided by the first job line
  for (int line = 1; std::getline(in, raw); ++line) {
    if (line == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);  // a UTF-8 BOM
    const std::string content = trim(raw);
    if (content.empty() || content[0] == '#') continue;
    if (!json_lines) json_lines = content[0] == '{' || content[0] == '[';
    if (*json_lines) {
      jobs.push_back(parse_json_line(content, line, origin));
    } else {
      if (content[0] == '{' || content[0] == '[') {
        LineError{origin, line}(
            "looks like a JSON job, but the file is a list of segment directories (its first job "
            "line is not JSON); use one format per file");
      }
      if (content.find('\0') != std::string::npos)
        LineError{origin, line}("holds a NUL byte; write one segment directory per line");
      if (content.size() > 4096)  // PATH_MAX: no path is longer
        LineError{origin, line}("is " + std::to_string(content.size()) +
                                " characters long, longer than any path; write one segment "
                                "directory per line");
      JobRequest r;
      r.line = line;
      r.values["segment"] = content;
      jobs.push_back(std::move(r));
    }
  }
  if (jobs.empty()) {
    throw Error(ErrorKind::input,
                origin +
                    " holds no jobs; write one JSON object per line (see README, Batches) or one "
                    "segment directory per line");
  }
  return jobs;
}

std::vector<JobRequest> read_jobs_file(const std::string& path) {
  // 256 MiB holds millions of jobs; more is a wrong file (or /dev/zero), not a batch.
  check_input_file(path, "jobs file", ErrorKind::input, std::uintmax_t{1} << 28);
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorKind::input,
                "jobs file '" + path + "' cannot be read; give a JSON Lines or plain list file");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_jobs_text(buffer.str(), std::filesystem::path(path).filename().string());
}

}  // namespace inkgen
