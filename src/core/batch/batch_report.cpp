#include "inkgen/batch/batch_report.hpp"

#include <algorithm>

#include "inkgen/batch/batch_status.hpp"
#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/jobs/manifest.hpp"
#include "inkgen/run/run_report.hpp"

namespace inkgen {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json probability_of(const json& line, const char* key) {
  const auto it = line.find(key);
  if (it == line.end() || !it->is_object()) return nullptr;
  const auto p = it->find("probability");
  return p != it->end() && p->is_number() ? *p : json(nullptr);
}

std::string text_of(const json& line, const char* key) {
  const auto it = line.find(key);
  if (it == line.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// A job folder the manifest names, kept inside `out`: a line is data from a file.
bool safe_folder(const std::string& folder) {
  if (folder.empty()) return false;
  const fs::path p(folder);
  if (p.is_absolute()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

const char* const page = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>inkgen batch report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} .muted{color:#666}
table{border-collapse:collapse;font-size:12px;margin-top:8px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
th{cursor:pointer;background:#eee;user-select:none} th.sorted{background:#cde}
tr.failed td{background:#fde8e8} tr.interrupted td{background:#fff4d6}
#filter{width:320px}
</style></head><body>
<h1>inkgen batch report</h1>
<div id="summary" class="muted"></div>
<input id="filter" type="search" placeholder="filter: any text in a row (segment, status, error...)">
<table id="jobs"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<script>
const B = /*DATA*/;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const columns = [
  ['status', 'status'], ['job', 'key'], ['mode', 'mode'], ['segment', 'segment'], ['crop', 'crop'],
  ['p start', 'p_start'], ['p final', 'p_final'], ['steps', 'steps_done'], ['error', 'error']];
let rows = B.rows.slice(), sortKey = null, sortUp = true;
function cell(r, key) {
  const v = r[key];
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return key.startsWith('p_') ? v.toFixed(4) : String(v);
  return String(v);
}
function render() {
  const q = $('filter').value.toLowerCase();
  const shown = rows.filter((r) => !q || columns.some(([, k]) => cell(r, k).toLowerCase().includes(q)));
  $('rows').innerHTML = shown.map((r) => `<tr class="${esc(r.status)}">` + columns.map(([, k]) =>
    k === 'key' && r.page ? `<td><a href="${esc(r.page)}">${esc(r.key)}</a></td>` : `<td>${esc(cell(r, k))}</td>`).join('') + '</tr>').join('');
  $('summary').textContent = `${B.rows.length} jobs: ${B.done} done, ${B.failed} failed, ${B.other} other; ` +
    `showing ${shown.length}. Failures first; click a column to sort, a job to open its page.`;
}
$('head').innerHTML = columns.map(([name, k]) => `<th data-key="${k}">${esc(name)}</th>`).join('');
document.querySelectorAll('#head th').forEach((th) => th.addEventListener('click', () => {
  const k = th.dataset.key;
  sortUp = sortKey === k ? !sortUp : true; sortKey = k;
  document.querySelectorAll('#head th').forEach((h) => h.classList.toggle('sorted', h === th));
  rows.sort((a, b) => {
    const x = a[k], y = b[k];
    const c = (typeof x === 'number' && typeof y === 'number') ? x - y : cell(a, k).localeCompare(cell(b, k), undefined, {numeric: true});
    return sortUp ? c : -c;
  });
  render();
}));
$('filter').addEventListener('input', render);
render();
</script></body></html>
)HTML";

}  // namespace

bool is_batch_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (is_manifest_file_name(entry.path().filename().string())) return true;
  return false;
}

json batch_report_rows(const fs::path& out) {
  const ManifestLines manifests = read_manifests(out);
  if (manifests.files.empty()) {
    throw Error(ErrorKind::input, "no manifest in " + out.string() +
                                      "; give a batch's --out folder (or a run folder)");
  }
  std::vector<json> rows;
  for (const auto& [key, line] : latest_lines(manifests)) {
    const json& l = *line;
    json row = {
        {"key", key},
        {"status", text_of(l, "status")},
        {"mode", text_of(l, "mode")},
        {"segment", l.contains("segment") ? fs::path(text_of(l, "segment")).filename().string()
                                          : std::string("noise")},
        {"crop", l.contains("crop") ? text_of(l, "crop") : text_of(l, "noise_index")},
        {"p_start", probability_of(l, "start_score")},
        {"p_final", probability_of(l, "final_score")},
        {"steps_done", l.value("steps_done", json(nullptr))},
        {"index", l.value("index", json(nullptr))},
        {"error", l.contains("error") && l["error"].is_object() ? text_of(l["error"], "message")
                                                                : std::string()}};
    const std::string folder = text_of(l, "folder");
    if (safe_folder(folder)) row["folder"] = folder;
    rows.push_back(std::move(row));
  }
  // Failures first, then the batch's own order.
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    const bool fa = a["status"] == "failed", fb = b["status"] == "failed";
    if (fa != fb) return fa;
    const auto ia = a["index"].is_number() ? a["index"].get<double>() : 1e300;
    const auto ib = b["index"].is_number() ? b["index"].get<double>() : 1e300;
    return ia < ib;
  });
  return rows;
}

BatchReport write_batch_report(const fs::path& out) {
  BatchReport report;
  json rows = batch_report_rows(out);
  std::size_t done = 0;
  for (auto& row : rows) {
    if (row["status"] == "done") ++done;
    if (row["status"] == "failed") ++report.failed;
    if (!row.contains("folder")) continue;
    const fs::path dir = out / row["folder"].get<std::string>();
    std::error_code ec;
    if (!fs::is_regular_file(dir / "run.json", ec)) continue;  // a job that never started
    try {
      write_run_report(dir);
      row["page"] = (fs::path(row["folder"].get<std::string>()) / "report.html").string();
      ++report.job_pages;
    } catch (const Error& e) {
      report.skipped.push_back(dir.string() + ": " + e.what());
    }
  }
  report.jobs = rows.size();
  const json data = {{"rows", rows},
                     {"done", done},
                     {"failed", report.failed},
                     {"other", rows.size() - done - report.failed}};
  std::string html = page;
  const std::string marker = "/*DATA*/";
  html.replace(html.find(marker), marker.size(), script_json(data));
  report.page = out / "report.html";
  write_text_atomically(report.page, html);
  return report;
}

}  // namespace inkgen
