#include "inkgen/jobs_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "inkgen/error.hpp"

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

std::string describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string as_string(const json& v, const std::string& key, const LineError& fail) {
  if (v.is_string()) return v.get<std::string>();
  fail("\"" + key + "\" must be a string, got " + describe(v));
}

// A list like "1,30,64,64" or "0.2,0.6" may be written as a JSON array of numbers too.
std::string as_list_text(const json& v, const std::string& key, const LineError& fail) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() && !v.empty() &&
      std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number(); })) {
    std::string text;
    for (const auto& x : v)
      text += (text.empty() ? "" : ",") + x.dump();
    return text;
  }
  fail("\"" + key + "\" must be a string like \"0.2,0.6\" or a list of numbers, got " +
       describe(v));
}

double as_double(const json& v, const std::string& key, const LineError& fail) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    // Strings allow what JSON numbers cannot spell ("nan", "inf"); validation rejects those.
    const std::string text = v.get<std::string>();
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && errno != ERANGE) return d;
  }
  fail("\"" + key + "\" must be a number, got " + describe(v));
}

long long as_integer(const json& v, const std::string& key, long long lo, long long hi,
                     const LineError& fail) {
  long double value = 0;
  bool ok = false;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      value = static_cast<long double>(u);
    } else {
      value = static_cast<long double>(v.get<std::int64_t>());
    }
    ok = true;
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    ok = std::isfinite(d) && std::floor(d) == d;
    value = d;
  } else if (v.is_string()) {
    const std::string text = v.get<std::string>();
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(text.c_str(), &end, 10);
    ok = !text.empty() && end == text.c_str() + text.size() && errno != ERANGE;
    value = static_cast<long double>(n);
  }
  if (!ok) fail("\"" + key + "\" must be a whole number, got " + describe(v));
  if (value < static_cast<long double>(lo) || value > static_cast<long double>(hi)) {
    fail("\"" + key + "\" is " + describe(v) + ", out of range " + std::to_string(lo) + ".." +
         std::to_string(hi));
  }
  return static_cast<long long>(value);
}

int as_int(const json& v, const std::string& key, const LineError& fail) {
  return static_cast<int>(
      as_integer(v, key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), fail));
}

std::uint64_t as_seed(const json& v, const std::string& key, const LineError& fail) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  return static_cast<std::uint64_t>(
      as_integer(v, key, 0, std::numeric_limits<long long>::max(), fail));
}

bool as_bool(const json& v, const std::string& key, const LineError& fail) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "false")) return v == "true";
  fail("\"" + key + "\" must be true or false, got " + describe(v));
}

Crop as_crop(const json& v, const LineError& fail) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_array() && v.size() == 4 &&
             std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number_integer(); })) {
    for (const auto& x : v)
      text += (text.empty() ? "" : ",") + x.dump();
  } else {
    fail("crop " + describe(v) +
         " is neither \"x1,y1,x2,y2\" nor [x1,y1,x2,y2]; write four integers");
  }
  try {
    return parse_crop(text);
  } catch (const Error& e) {
    fail(std::string("crops: ") + e.what());
  }
}

void read_crops(const json& v, JobRequest& r, const LineError& fail) {
  if (v.is_string() && v == "auto") {
    r.crops_kind = CropsKind::tiled;
    return;
  }
  r.crops_kind = CropsKind::listed;
  if (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& x) {
        return x.is_string() || x.is_array();
      })) {
    for (const auto& c : v)
      r.crops.push_back(as_crop(c, fail));
  } else if (v.is_string()) {
    r.crops.push_back(as_crop(v, fail));
  } else {
    fail(
        "\"crops\" must be \"auto\" or a non-empty list of \"x1,y1,x2,y2\" or [x1,y1,x2,y2], got " +
        describe(v));
  }
}

using Setter = std::function<void(const json&, JobRequest&, const LineError&)>;

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = [] {
    std::map<std::string, Setter> t;
    const auto text = [&t](const std::string& key, std::optional<std::string> JobRequest::*field) {
      t[key] = [key, field](const json& v, JobRequest& r, const LineError& f) {
        r.*field = as_string(v, key, f);
      };
    };
    const auto list = [&t](const std::string& key, std::optional<std::string> JobRequest::*field) {
      t[key] = [key, field](const json& v, JobRequest& r, const LineError& f) {
        r.*field = as_list_text(v, key, f);
      };
    };
    const auto integer = [&t](const std::string& key, std::optional<int> JobRequest::*field) {
      t[key] = [key, field](const json& v, JobRequest& r, const LineError& f) {
        r.*field = as_int(v, key, f);
      };
    };
    const auto real = [&t](const std::string& key, std::optional<double> JobRequest::*field) {
      t[key] = [key, field](const json& v, JobRequest& r, const LineError& f) {
        r.*field = as_double(v, key, f);
      };
    };
    const auto seed = [&t](const std::string& key,
                           std::optional<std::uint64_t> JobRequest::*field) {
      t[key] = [key, field](const json& v, JobRequest& r, const LineError& f) {
        r.*field = as_seed(v, key, f);
      };
    };
    text("mode", &JobRequest::mode);
    text("source", &JobRequest::source);
    text("segment", &JobRequest::segment);
    t["crops"] = [](const json& v, JobRequest& r, const LineError& f) { read_crops(v, r, f); };
    integer("stride", &JobRequest::stride);
    integer("sample", &JobRequest::sample);
    seed("sample-seed", &JobRequest::sample_seed);
    integer("count", &JobRequest::count);
    text("name", &JobRequest::name);
    text("model", &JobRequest::model);
    list("input-shape", &JobRequest::input_shape);
    text("scale", &JobRequest::scale);
    list("range", &JobRequest::range);
    text("output-kind", &JobRequest::output_kind);
    integer("z0", &JobRequest::z0);
    integer("steps", &JobRequest::steps);
    real("lr", &JobRequest::lr);
    text("optimizer", &JobRequest::optimizer);
    real("decay", &JobRequest::decay);
    seed("seed", &JobRequest::seed);
    text("noise", &JobRequest::noise);
    list("noise-range", &JobRequest::noise_range);
    t["clamp"] = [](const json& v, JobRequest& r, const LineError& f) {
      r.clamp = as_bool(v, "clamp", f);
    };
    t["no-clamp"] = [](const json& v, JobRequest& r, const LineError& f) {
      r.clamp = !as_bool(v, "no-clamp", f);
    };
    real("l2", &JobRequest::l2);
    real("tv", &JobRequest::tv);
    integer("jitter", &JobRequest::jitter);
    integer("blur-every", &JobRequest::blur_every);
    real("blur-sigma", &JobRequest::blur_sigma);
    integer("report-every", &JobRequest::report_every);
    integer("save-every", &JobRequest::save_every);
    text("objective", &JobRequest::objective);
    text("param", &JobRequest::param);
    real("fourier-decay", &JobRequest::fourier_decay);
    text("robust", &JobRequest::robust);
    real("diversity", &JobRequest::diversity);
    real("stop-at", &JobRequest::stop_at);
    text("precision", &JobRequest::precision);
    t["no-freeze"] = [](const json& v, JobRequest& r, const LineError& f) {
      r.freeze = !as_bool(v, "no-freeze", f);
    };
    return t;
  }();
  return table;
}

// Other spellings of a key: the single commands' --from and --crop, and --no-clamp's opposite.
std::string canonical_key(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  if (key == "from") return "source";
  if (key == "crop") return "crops";
  if (key == "no-clamp") return "clamp";
  return key;
}

JobRequest parse_json_line(const std::string& text, int line, const std::string& origin) {
  const LineError fail{origin, line};
  std::vector<std::string> keys;  // the top-level keys in order, repeats included
  json j;
  try {
    j = json::parse(text, [&keys](int depth, json::parse_event_t event, json& parsed) {
      if (depth == 1 && event == json::parse_event_t::key)
        keys.push_back(parsed.get<std::string>());
      return true;
    });
  } catch (const json::exception& e) {
    // A syntax error (parse_error) or a number beyond double's range (out_of_range, "1e999").
    std::string why = e.what();
    const auto column = why.find("column");
    const auto tag_end = why.find("] ");
    if (column != std::string::npos) {
      why = why.substr(column);
    } else if (tag_end != std::string::npos) {
      why = why.substr(tag_end + 2);
    }
    fail("not a valid JSON object (" + why + "); write one JSON object per line");
  }
  if (!j.is_object())
    fail("holds " + describe(j) + ", not a JSON object; write one object per line");
  std::set<std::string> seen;
  for (const auto& key : keys) {
    const std::string canonical = canonical_key(key);
    if (!setters().count(canonical)) {
      fail("unknown key \"" + key +
           "\"; remove it or fix its name (keys are the single commands' option names, see "
           "README, Batches)");
    }
    if (!seen.insert(canonical).second) {
      fail("key \"" + key + "\" is given twice (or with another spelling); keep one");
    }
  }
  JobRequest r;
  r.line = line;
  for (const auto& [key, value] : j.items()) {
    if (value.is_null()) continue;
    const std::string canonical = canonical_key(key);
    // "no-clamp" shares the canonical name "clamp" only to catch repeats; it keeps its meaning.
    const std::string setter = key == "no-clamp" || key == "no_clamp" ? "no-clamp" : canonical;
    setters().at(setter)(value, r, fail);
  }
  return r;
}

}  // namespace

const std::vector<std::string>& job_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& [key, setter] : setters())
      k.push_back(key);
    return k;
  }();
  return keys;
}

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
      JobRequest r;
      r.line = line;
      r.segment = content;
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

void parse_crops_option(const std::vector<std::string>& values, JobRequest& request) {
  if (values.size() == 1 && values.front() == "auto") {
    request.crops_kind = CropsKind::tiled;
    return;
  }
  request.crops_kind = CropsKind::listed;
  for (const auto& v : values) {
    if (v == "auto")
      throw Error(ErrorKind::usage, "--crops auto cannot be mixed with listed crops; give one");
    request.crops.push_back(parse_crop(v));
  }
}

}  // namespace inkgen
