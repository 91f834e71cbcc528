#include "json_config.hpp"

#include <iterator>
#include <nlohmann/json.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/json_text.hpp"

namespace inkgen::cli {

namespace {

std::string scalar_text(const nlohmann::json& value, const std::string& key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number()) return value.dump();
  throw CLI::ConfigError("config key '" + excerpt(key) + "' holds " + excerpt(value) +
                         "; give a string, number, boolean or a list of them");
}

}  // namespace

std::string JsonConfig::to_config(const CLI::App* app, bool default_also, bool, std::string) const {
  nlohmann::json j = nlohmann::json::object();
  for (const CLI::Option* opt : app->get_options({})) {
    if (opt->get_lnames().empty() || !opt->get_configurable()) continue;
    const std::string name = opt->get_lnames().front();
    if (opt->count() > 0) {
      j[name] = opt->results().size() == 1 ? nlohmann::json(opt->results().front())
                                           : nlohmann::json(opt->results());
    } else if (default_also && !opt->get_default_str().empty()) {
      j[name] = opt->get_default_str();
    }
  }
  return json_text(j, 2);
}

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  const std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  nlohmann::json j;
  try {
    j = parse_json_input(text, ErrorKind::usage, "config file", "fix the JSON");
  } catch (const Error& e) {
    throw CLI::ConfigError(e.what());
  }
  if (!j.is_object())
    throw CLI::ConfigError("config file must hold one JSON object of option names and values");
  const auto chosen = root_.get_subcommands();
  const CLI::App* command = chosen.empty() ? &root_ : chosen.front();
  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : j.items()) {
    const CLI::Option* option = command->get_option_no_throw("--" + key);
    if (option == nullptr) option = root_.get_option_no_throw("--" + key);
    if (option == nullptr) {
      throw CLI::ConfigError("config file key '" + excerpt(key) + "' is not an option of " +
                             command->get_name() +
                             "; remove it or fix its name (keys are option names without dashes)");
    }
    // null is no value: leaving the key out is how a config keeps an option's default.
    if (value.is_null()) {
      throw CLI::ConfigError("config file key '" + excerpt(key) +
                             "' is null; give it a value, or leave the key out for the default");
    }
    if (value.is_array() && option->get_items_expected_max() <= 1) {
      throw CLI::ConfigError("config file key '" + excerpt(key) + "' holds a list " +
                             excerpt(value) + " but takes one value; write the value alone");
    }
    // CLI11 would echo a flag's wrong value whole ("Could not convert: --json = <5000 bytes>").
    const bool boolean = value.is_boolean() || value == "true" || value == "false";
    if (option->get_items_expected_max() == 0 && !boolean) {
      throw CLI::ConfigError("config file key '" + excerpt(key) + "' is a flag but holds " +
                             excerpt(value) + "; give true or false");
    }
    CLI::ConfigItem item;
    item.name = key;
    if (command != &root_ && command->get_option_no_throw("--" + key) != nullptr)
      item.parents = {command->get_name()};
    if (value.is_array()) {
      for (const auto& v : value)
        item.inputs.push_back(scalar_text(v, key));
    } else {
      item.inputs.push_back(scalar_text(value, key));
    }
    items.push_back(std::move(item));
  }
  return items;
}

void check_config_files(int argc, const char* const* argv) {
  const std::string flag = "--config";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == flag && i + 1 < argc) {
      check_input_file(argv[i + 1], "--config file", ErrorKind::usage, std::uintmax_t{1} << 24);
    } else if (arg.rfind(flag + "=", 0) == 0) {
      check_input_file(arg.substr(flag.size() + 1), "--config file", ErrorKind::usage,
                       std::uintmax_t{1} << 24);
    }
  }
}

void add_config_option(CLI::App& root) {
  root.config_formatter(std::make_shared<JsonConfig>(root));
  root.set_config(
      "--config", "",
      "JSON file of options (keys: option names without dashes); the command line wins");
  root.allow_config_extras(CLI::config_extras_mode::error);
}

}  // namespace inkgen::cli
