// `inkgen report DIR`: a page to read a run or a batch by (report.html).
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/batch/batch_report.hpp"
#include "inkgen/run/run_report.hpp"

namespace inkgen::cli {

Command add_report_command(CLI::App& parent, const Context& context) {
  auto dir = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand(
      "report",
      "Write report.html in a run or batch folder: slices with a depth slider, plots, options; "
      "for a batch a table of its jobs, each linking to its own page");
  app->add_option("dir", *dir, "A run folder (with run.json) or a batch's --out folder")
      ->required();
  return {app, [dir, &context]() {
            const std::filesystem::path folder(*dir);
            nlohmann::json result;
            if (is_batch_folder(folder)) {
              const BatchReport report = write_batch_report(folder);
              for (const auto& skipped : report.skipped)
                spdlog::warn("no page for {}", skipped);
              result = {{"report", report.page.string()},
                        {"kind", "batch"},
                        {"jobs", report.jobs},
                        {"failed", report.failed},
                        {"job_pages", report.job_pages}};
            } else {
              result = {{"report", write_run_report(folder).string()}, {"kind", "run"}};
            }
            if (context.global.json) {
              print_json(result);
            } else if (!context.global.quiet) {
              std::cout << result["report"].get<std::string>() << "\n";
            }
            return 0;
          }};
}

}  // namespace inkgen::cli
