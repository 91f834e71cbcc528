#include "table_options.hpp"

#include <algorithm>

#include "inkgen/common/error.hpp"

namespace inkgen::cli {

namespace {

std::string default_text(const OptionSpec& option, const JobSettings& defaults) {
  if (!option.record) return "";
  const nlohmann::json v = option.record(defaults);
  if (v.is_null() || v == "unset") return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

const char* type_name(OptionType type) {
  switch (type) {
    case OptionType::integer:
      return "INT";
    case OptionType::real:
      return "NUMBER";
    case OptionType::real_or_off:
      return "NUMBER|off";
    case OptionType::seed:
      return "UINT";
    case OptionType::list:
      return "LIST";
    case OptionType::crops:
      return "CROP|auto";
    default:
      return "TEXT";
  }
}

}  // namespace

void add_table_options(CLI::App& app, unsigned scope, TableValues& values,
                       const std::vector<std::string>& keys, const std::string& group) {
  const JobSettings defaults = resolve_settings(JobRequest{});
  for (const auto& option : option_table()) {
    const bool chosen = keys.empty()
                            ? (option.scopes & scope) != 0
                            : std::find(keys.begin(), keys.end(), option.key) != keys.end();
    if (!chosen) continue;
    CLI::Option* o = nullptr;
    if (option.type == OptionType::flag) {
      const std::string name = (option.negated_flag ? "--no-" : "--") + option.key;
      bool& flag = values.flags[option.key];
      o = app.add_flag(name, flag, option.help);
    } else {
      const std::string names = option.names.empty() ? "--" + option.key : option.names;
      std::vector<std::string>& given = values.given[option.key];
      o = app.add_option(names, given, option.help);
      if (option.type != OptionType::crops) {
        o->expected(1);
        o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
      }
      o->type_name(type_name(option.type));
      const std::string shown = default_text(option, defaults);
      if (!shown.empty()) o->default_str(shown);
    }
    if (!group.empty()) o->group(group);
  }
}

JobRequest table_request(const TableValues& values) {
  JobRequest request;
  for (const auto& option : option_table()) {
    const std::string label = (option.negated_flag ? "--no-" : "--") + option.key;
    const OptionFailure usage = [](const std::string& problem) {
      throw Error(ErrorKind::usage, problem);
    };
    if (option.type == OptionType::flag) {
      const auto it = values.flags.find(option.key);
      if (it != values.flags.end() && it->second) request.values[option.key] = !option.negated_flag;
      continue;
    }
    const auto it = values.given.find(option.key);
    if (it == values.given.end() || it->second.empty()) continue;
    const nlohmann::json raw = option.type == OptionType::crops ? nlohmann::json(it->second)
                                                                : nlohmann::json(it->second.back());
    request.values[option.key] = check_option_value(option, raw, label, usage);
  }
  return request;
}

}  // namespace inkgen::cli
