#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace inkgen {

// `inkgen report` for a batch's --out folder: report.html there, a table of every job its
// manifests name (the latest line of each), failures first, that sorts and filters, each row
// linking to the job's own page (run_report.hpp), which is written beside the job's run.json.
struct BatchReport {
  std::filesystem::path page;        // out/report.html
  std::size_t jobs = 0;              // rows in the table
  std::size_t failed = 0;            // of which failed
  std::size_t job_pages = 0;         // job pages written
  std::vector<std::string> skipped;  // job folders whose page could not be made, and why
};

// The table's rows: one per job key, from its latest manifest line, failures first, then in
// the batch's job order. Error(input) when `out` holds no manifest.
nlohmann::json batch_report_rows(const std::filesystem::path& out);

// Writes every job's page and out/report.html, atomically.
BatchReport write_batch_report(const std::filesystem::path& out);

// Whether `dir` is a batch's --out folder (it holds a manifest).
bool is_batch_folder(const std::filesystem::path& dir);

}  // namespace inkgen
