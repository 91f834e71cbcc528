#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace inkgen {

// `inkgen report` for one run folder (a run of one or several starts, or one batch job): a page
// to read the run by, report.html, beside its run.json. It shows the run's own PNGs through
// relative paths (no server, no network, nothing copied), a depth slider labelled with the
// segment's layer numbers, the diff's colour bar with numbers, the depth profile and probability
// trace as plots with axes, the ink map before and after, and every option.

// What the page shows of a run, from its run.json: the data embedded in the page, testable
// without a browser. Error(input) when run.json is missing or not a run's record.
nlohmann::json run_report_data(const std::filesystem::path& run_dir);

// The page itself around `data` (run_report_data's).
std::string run_report_html(const nlohmann::json& data);

// Writes run_dir/report.html atomically and returns its path.
std::filesystem::path write_run_report(const std::filesystem::path& run_dir);

// JSON for a <script> element: "</" escaped so that no string can end the element.
std::string script_json(const nlohmann::json& data);

}  // namespace inkgen
