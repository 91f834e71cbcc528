// `inkgen fidelity`: scores runs against a synthetic segment whose ink is known.
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/evaluate/fidelity.hpp"

namespace inkgen::cli {

namespace {

struct FidelityOptions {
  std::string truth;
  std::vector<std::string> runs;
};

std::string metric_text(const std::optional<double>& v, const char* format = "%.3f") {
  if (!v) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, *v);
  return buffer;
}

std::string table_cell(const std::string& text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string summary_line(const std::string& label, const nlohmann::json& m) {
  const auto get = [&](const char* key) {
    return m[key].is_null() ? std::optional<double>() : std::optional<double>(m[key].get<double>());
  };
  return label + " (" + std::to_string(m["starts"].get<int>()) + " starts): F_band " +
         metric_text(get("F_band")) + ", KAS_film " + metric_text(get("KAS_film")) + ", KAS_ink " +
         metric_text(get("KAS_ink")) + " (" + std::to_string(m["KAS_ink_starts"].get<int>()) +
         " starts), p " + metric_text(get("p0"), "%.4f") + " -> " + metric_text(get("p1"), "%.4f") +
         "\n";
}

void print_table(const FidelityReport& report) {
  std::size_t name_width = 10;
  for (const auto& s : report.starts)
    name_width = std::max(name_width, s.name.size() + 2);
  std::cout << "truth: " << report.truth.string() << "\n"
            << table_cell("run", name_width) << table_cell("mode", 13) << table_cell("crop", 20)
            << table_cell("layers", 8) << table_cell("p0 -> p1", 18) << table_cell("F_band", 8)
            << table_cell("KAS_film", 10) << "KAS_ink\n";
  for (const auto& s : report.starts) {
    const std::string crop = s.crop ? s.crop->text() : "noise";
    std::cout << table_cell(s.name, name_width) << table_cell(s.mode, 13) << table_cell(crop, 20)
              << table_cell(std::to_string(s.z0) + ".." + std::to_string(s.z0 + s.depth - 1), 8)
              << table_cell(metric_text(s.p0, "%.4f") + " -> " + metric_text(s.p1, "%.4f"), 18)
              << table_cell(metric_text(s.f_band), 8) << table_cell(metric_text(s.kas_film), 10)
              << metric_text(s.kas_ink) << "\n";
  }
  const auto summary = report.summary();
  std::cout << "\n" << summary_line("all", summary);
  for (const auto& [mode, means] : summary["by_mode"].items())
    std::cout << summary_line(mode, means);
}

}  // namespace

Command add_fidelity_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<FidelityOptions>();
  CLI::App* app = parent.add_subcommand(
      "fidelity", "Score runs against a synthetic segment whose ink is known (inkgen synth)");
  app->add_option("-t,--truth", options->truth,
                  "Segment directory made by inkgen synth, with its ground truth")
      ->required();
  app->add_option("runs", options->runs,
                  "Run folders: a single run, a run of several starts, or a batch folder")
      ->required();
  return {app, [options, &context]() {
            std::vector<std::filesystem::path> runs(options->runs.begin(), options->runs.end());
            const FidelityReport report = evaluate_fidelity(options->truth, runs);
            for (const auto& skipped : report.skipped)
              std::cerr << "inkgen: warning: skipped " << skipped << "\n";
            if (context.global.json) {
              print_json(report.to_json());
            } else {
              print_table(report);
            }
            return 0;
          }};
}

}  // namespace inkgen::cli
