#include "inkgen/run/run_report.hpp"

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/io/segment_writer.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

int count_pngs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".png") ++n;
  return n;
}

// What a person calls each slice: the segment's layer number (and the file read, when the
// layers were reversed), or the window's own index for a noise start.
std::vector<std::string> layer_labels(const json& source, int depth) {
  std::vector<std::string> labels;
  const bool segment = source.is_object() && source.value("kind", "") == "segment" &&
                       source.contains("layers") && source["layers"].is_array();
  const bool reversed = segment && source.contains("stored_layers");
  for (int z = 0; z < depth; ++z) {
    if (!segment) {
      labels.push_back("window layer " + std::to_string(z));
      continue;
    }
    std::string label = "layer " + std::to_string(source["layers"][0].get<int>() + z);
    if (reversed) {
      const int first = source["stored_layers"][0].get<int>();
      const int last = source["stored_layers"][1].get<int>();
      label += " (file " + std::to_string(first <= last ? first + z : first - z) + ")";
    }
    labels.push_back(label);
  }
  return labels;
}

std::string start_label(const json& source, std::size_t index) {
  if (source.is_object() && source.value("kind", "") == "segment") {
    std::string crop;
    for (const auto& v : source.value("crop", json::array()))
      crop += (crop.empty() ? "" : ",") + std::to_string(v.get<int>());
    return source.value("segment_name", std::string("segment")) + " " + crop;
  }
  return "noise start " + std::to_string(index);
}

json start_data(const fs::path& run_dir, const json& start, std::size_t index) {
  const std::string folder = start.value("folder", std::string("."));
  const fs::path dir = run_dir / folder;
  const json source = start.value("source", json::object());
  const int depth = count_pngs(dir / "start");
  // In the order a person reads them: where it started, where it ended, what changed.
  json images = json::array();
  for (const char* kind : {"start", "result", "diff", "attribution"}) {
    if (count_pngs(dir / kind) != depth || depth == 0) continue;
    json files = json::array();
    for (int z = 0; z < depth; ++z)
      files.push_back((fs::path(folder) / kind / layer_file_name(z, depth, ".png")).string());
    images.push_back({{"kind", kind}, {"files", files}});
  }
  json d = {{"label", start_label(source, index)},
            {"folder", folder},
            {"status", start.value("status", std::string("unknown"))},
            {"source", source},
            {"depth", depth},
            {"layers", layer_labels(source, depth)},
            {"images", images}};
  for (const char* key :
       {"start_score", "final_score", "steps_done", "reached_stop_at", "change_sign",
        "depth_profile", "diff", "attribution", "ink_map", "objective", "low_frequency_fraction"}) {
    if (start.contains(key)) d[key] = start[key];
  }
  if (start.contains("trace")) d["trace"] = start["trace"];
  if (fs::exists(dir / "montage.png")) d["montage"] = (fs::path(folder) / "montage.png").string();
  return d;
}

const char* const page = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>inkgen report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 6px}
.muted{color:#666} .bad{color:#b00020;font-weight:600}
#starts button{margin:0 4px 4px 0} #starts button.on{background:#335;color:#fff}
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
figure{margin:0;text-align:center} figcaption{font-size:12px;color:#444}
figure img{width:256px;height:256px;image-rendering:pixelated;border:1px solid #ccc;background:#fff}
#slider{width:520px} #layer{font-weight:600;margin-left:8px}
.bar{width:256px;height:12px;background:linear-gradient(90deg,#00f,#fff,#f00);border:1px solid #ccc}
.ticks{display:flex;justify-content:space-between;width:258px;font-size:11px}
table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
svg text{font-size:10px;fill:#333} canvas{border:1px solid #ccc;image-rendering:pixelated}
</style></head><body>
<h1 id="title"></h1><div id="summary" class="muted"></div>
<div id="starts"></div>
<div id="start"></div>
<h2>Options</h2><table id="options"></table>
<script>
const R = /*DATA*/;
const $ = (id) => document.getElementById(id);
const fmt = (v, d = 4) => (v === undefined || v === null) ? '-' : Number(v).toPrecision(d);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function plot(values, opts) {
  // A line or bar plot with labelled axes, as SVG text.
  const W = opts.w || 520, H = opts.h || 180, L = 60, B = 34, T = 10, Rm = 10;
  const n = values.length, lo = opts.lo !== undefined ? opts.lo : Math.min(0, ...values);
  const hi = opts.hi !== undefined ? opts.hi : Math.max(...values, lo + 1e-12);
  const x = (i) => L + (n <= 1 ? 0 : i * (W - L - Rm) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo || 1));
  let s = `<svg width="${W}" height="${H}" role="img" aria-label="${esc(opts.title)}">`;
  s += `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`;
  s += `<line x1="${L}" y1="${H - B}" x2="${W - Rm}" y2="${H - B}" stroke="#333"/>`;
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    s += `<line x1="${L - 4}" y1="${y(v)}" x2="${L}" y2="${y(v)}" stroke="#333"/>`;
    s += `<text x="${L - 6}" y="${y(v) + 3}" text-anchor="end">${fmt(v, 3)}</text>`;
  }
  const every = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < n; i += every) {
    s += `<line x1="${x(i)}" y1="${H - B}" x2="${x(i)}" y2="${H - B + 4}" stroke="#333"/>`;
    s += `<text x="${x(i)}" y="${H - B + 14}" text-anchor="middle">${esc(opts.xlabel(i))}</text>`;
  }
  s += `<text x="${(L + W) / 2}" y="${H - 4}" text-anchor="middle">${esc(opts.xtitle)}</text>`;
  s += `<text x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(opts.ytitle)}</text>`;
  if (opts.bars) {
    const w = Math.max(2, (W - L - Rm) / Math.max(n, 1) * 0.8);
    values.forEach((v, i) => {
      const on = i === opts.mark;
      s += `<rect class="bar-${i}" x="${x(i) - w / 2}" y="${y(Math.max(v, lo))}" width="${w}" height="${Math.max(0, y(lo) - y(Math.max(v, lo)))}" fill="${on ? '#d33' : '#68a'}"/>`;
    });
  } else {
    s += `<polyline fill="none" stroke="#d33" stroke-width="1.5" points="${values.map((v, i) => x(i) + ',' + y(v)).join(' ')}"/>`;
  }
  return s + '</svg>';
}
function drawMap(canvas, rows) {
  // Ink probability 0..1: black to red to yellow, each cell a 6 px square.
  const h = rows.length, w = h ? rows[0].length : 0, c = 6;
  canvas.width = w * c; canvas.height = h * c;
  const g = canvas.getContext('2d');
  rows.forEach((row, yy) => row.forEach((v, xx) => {
    const p = Math.max(0, Math.min(1, v));
    g.fillStyle = `rgb(${Math.round(255 * Math.min(1, 2 * p))},${Math.round(255 * Math.max(0, 2 * p - 1))},0)`;
    g.fillRect(xx * c, yy * c, c, c);
  }));
}
let current = 0;
function showStart(i) {
  current = i;
  const s = R.starts[i];
  document.querySelectorAll('#starts button').forEach((b, k) => b.classList.toggle('on', k === i));
  let h = `<h2>${esc(s.label)} <span class="muted">(${s.folder === '.' ? '' : esc(s.folder) + ', '}${esc(s.status)})</span></h2>`;
  const p0 = s.start_score && s.start_score.probability, p1 = s.final_score && s.final_score.probability;
  h += `<div>ink probability ${fmt(p0)} &rarr; ${fmt(p1)}` + (s.steps_done !== undefined ? ` in ${s.steps_done} steps` : '') +
       (s.change_sign ? `, change ${esc(s.change_sign)}` : '') + `</div>`;
  const profile = s.depth_profile || (s.attribution && s.attribution.depth_profile);
  // The slider starts where the change (or the attribution) is largest.
  const top = profile && profile.length ? profile.indexOf(Math.max(...profile)) : 0;
  if (s.depth_profile && s.depth_profile.length) {
    h += `<div id="where">largest change at <b>${esc(s.layers[top] || top)}</b>: mean |diff| ${fmt(s.depth_profile[top], 3)}` +
         (s.diff ? `; largest single change +${fmt(s.diff.max_added, 3)} / -${fmt(s.diff.max_removed, 3)}` : '') + `</div>`;
  }
  if (s.depth > 0) {
    h += `<h2>Slices</h2><input id="slider" type="range" min="0" max="${s.depth - 1}" step="1" value="0"><span id="layer"></span>`;
    h += `<div class="row" id="slices">`;
    for (const {kind} of s.images) {
      h += `<figure><img id="img-${kind}" alt="${kind}"><figcaption>${kind}</figcaption>`;
      const scale = kind === 'diff' && s.diff ? s.diff.scale : (kind === 'attribution' && s.attribution ? s.attribution.scale : null);
      if (scale) h += `<div class="bar"></div><div class="ticks"><span>-${fmt(scale, 3)}</span><span>0</span><span>+${fmt(scale, 3)}</span></div>` +
                      `<figcaption>${kind === 'diff' ? 'blue removed, red added (model scale)' : 'blue against ink, red for ink'}</figcaption>`;
      h += `</figure>`;
    }
    h += `</div>`;
  } else {
    h += `<p class="bad">no slices: this start did not finish${s.error ? ' (' + esc(s.error.message) + ')' : ''}</p>`;
  }
  if (profile) h += `<h2>Depth profile</h2><div id="profile"></div>`;
  if (s.trace && s.trace.probability && s.trace.probability.length) h += `<h2>Ink probability per step</h2><div id="trace"></div>`;
  if (s.ink_map) h += `<h2>Ink map</h2><div class="row"><figure><canvas id="map-before"></canvas><figcaption>before</figcaption></figure>` +
                      `<figure><canvas id="map-after"></canvas><figcaption>after</figcaption></figure>` +
                      `<figure><div class="bar" style="width:120px;background:linear-gradient(90deg,#000,#f00,#ff0)"></div><div class="ticks" style="width:122px"><span>0</span><span>0.5</span><span>1</span></div><figcaption>probability</figcaption></figure></div>`;
  if (s.montage) h += `<h2>Montage</h2><img src="${esc(s.montage)}" alt="montage" style="max-width:100%">`;
  $('start').innerHTML = h;
  if (s.depth > 0) {
    $('slider').addEventListener('input', (e) => setLayer(Number(e.target.value)));
    setLayer(Math.min(top, s.depth - 1));
  }
  if (s.trace && s.trace.probability && s.trace.probability.length) {
    $('trace').innerHTML = plot(s.trace.probability, {title: 'probability per step', lo: 0, hi: 1,
      xlabel: (i) => String(i), xtitle: 'step', ytitle: 'ink probability'});
  }
  if (s.ink_map) { drawMap($('map-before'), s.ink_map.before || []); drawMap($('map-after'), s.ink_map.after || []); }
}
function setLayer(z) {
  const s = R.starts[current];
  $('slider').value = z;
  $('layer').textContent = `${s.layers[z]} (slice ${z + 1} of ${s.depth})`;
  for (const {kind, files} of s.images) $('img-' + kind).src = files[z];
  const profile = s.depth_profile || (s.attribution && s.attribution.depth_profile);
  if (profile) $('profile').innerHTML = plot(profile, {title: 'depth profile', bars: true, mark: z,
      xlabel: (i) => s.layers[i].replace(/^(window )?layer /, '').replace(/ .*/, ''),
      xtitle: s.source && s.source.kind === 'segment' ? 'segment layer' : 'window layer',
      ytitle: s.depth_profile ? 'mean |diff|' : 'mean |attribution|'});
}
$('title').textContent = `inkgen ${R.mode} run: ${R.model}`;
$('summary').innerHTML = `${esc(R.status)}${R.error ? ' <span class="bad">' + esc(R.error.message) + '</span>' : ''}; ` +
  `${R.starts.length} start${R.starts.length === 1 ? '' : 's'}; device ${esc(R.device)}; seed ${esc(R.seed)}; ` +
  `inkgen ${esc(R.inkgen_version)}, LibTorch ${esc(R.torch_version)}; started ${esc(R.started_at)}`;
if (R.starts.length > 1) $('starts').innerHTML = R.starts.map((s, i) =>
  `<button onclick="showStart(${i})">${esc(s.label)}${s.status === 'done' ? '' : ' (' + esc(s.status) + ')'}</button>`).join('');
$('options').innerHTML = Object.entries(R.options).map(([k, v]) =>
  `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`).join('');
if (R.starts.length) showStart(0);
</script></body></html>
)HTML";

}  // namespace

std::string script_json(const nlohmann::json& data) {
  std::string text = json_text(data);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

json run_report_data(const fs::path& run_dir) {
  const fs::path path = run_dir / "run.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(ErrorKind::input, "no run.json in " + run_dir.string() +
                                      "; give a run folder or a batch's --out folder");
  }
  json record;
  try {
    record = json::parse(read_text(path));
  } catch (const json::exception&) {
    throw Error(ErrorKind::input,
                path.string() + " is not JSON; give a run folder that inkgen wrote");
  }
  if (!record.is_object() || !record.contains("starts") || !record["starts"].is_array()) {
    throw Error(ErrorKind::input, path.string() +
                                      " is not a run's record (no \"starts\"); give a run folder "
                                      "that maximize, minimize, attribute or a batch job wrote");
  }
  try {
    const json mode = record.value("mode", json("?"));
    const json model = record.value("model", json::object());
    json data = {
        {"mode", mode.is_object() ? json(mode.value("direction", std::string("?")) + " from " +
                                         mode.value("source", std::string("?")))
                                  : mode},
        {"model", model.is_object() ? model.value("name", std::string("?")) : std::string("?")},
        {"status", record.value("status", std::string("unknown"))},
        {"options", record.value("options", json::object())},
        {"starts", json::array()}};
    for (const char* key :
         {"device", "seed", "inkgen_version", "torch_version", "started_at", "error", "scale"})
      data[key] = record.value(key, json());
    const auto& starts = record["starts"];
    for (std::size_t i = 0; i < starts.size(); ++i)
      if (starts[i].is_object()) data["starts"].push_back(start_data(run_dir, starts[i], i));
    return data;
  } catch (const json::exception& e) {
    // A run.json edited or damaged by hand: a field of another type than inkgen writes.
    throw Error(ErrorKind::input, path.string() + " has a field inkgen does not write that way (" +
                                      e.what() + "); give a run folder that inkgen wrote");
  }
}

std::string run_report_html(const json& data) {
  std::string html = page;
  const std::string marker = "/*DATA*/";
  html.replace(html.find(marker), marker.size(), script_json(data));
  return html;
}

fs::path write_run_report(const fs::path& run_dir) {
  const fs::path out = run_dir / "report.html";
  write_text_atomically(out, run_report_html(run_report_data(run_dir)));
  return out;
}

}  // namespace inkgen
