// `inkgen bench`: inkgen's optimization loop against the same loop written in Python PyTorch
// (its peers: as written, the best eager loop, and under torch.compile), run alternately on the
// same model, batch, steps, threads and device; medians of the repeats.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <sys/wait.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/version.hpp"
#include "inkgen/model/device.hpp"
#include "inkgen/model/flop_counter.hpp"
#include "inkgen/model/process_memory.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/row_split.hpp"
#include "inkgen/optimize/start_volume.hpp"

namespace inkgen::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Skipped with a warning when absent (a clone without ../shared); a --keras-model the user
// names must exist.
std::string shared_keras_model() {
  return (fs::path(INKGEN_SOURCE_DIR).parent_path() / "shared" / "models" / "keras-patch-x65m25.pt")
      .string();
}

struct BenchOptions {
  std::string workloads = "bundled,keras,gp-i3d";
  std::string peers = "eager,compiled";
  int steps = 100;
  int batch = 16;
  int repeats = 3;
  int warmup = 3;
  // The Python whose torch is the LibTorch inkgen was built against, so that the peers run the
  // same torch version (INKGEN_TORCH_PYTHON at configure time; Debian's python3 otherwise).
  std::string python = INKGEN_BENCH_PYTHON;
  std::string reference =
      (fs::path(INKGEN_SOURCE_DIR) / "tests" / "bench" / "reference_loop.py").string();
  std::string keras_model = shared_keras_model();
  std::string gp_model;
  std::string precision = "fp32";
};

// The glibc settings of allocator_tuning.cpp as environment variables: a Python process run with
// them reuses freed memory as inkgen does. Without them the eager loop spends most of a step
// faulting fresh pages in, and a careful user sets them.
constexpr const char* tuned_malloc_env =
    "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 ";

// A loop of reference_loop.py that inkgen is measured against.
struct Peer {
  const char* name;
  const char* description;
  const char* arguments;
  bool tuned_malloc;
};

constexpr Peer peer_table[] = {
    {"as-written", "weights trainable, malloc as is: what a researcher writes first",
     "--weights trainable", false},
    {"eager", "weights frozen (torch.jit.freeze), malloc tuned as inkgen's: the best eager loop",
     "--weights frozen", true},
    {"compiled", "the eager loop with the model under torch.compile (inductor)",
     "--weights frozen --compile", true},
};

std::vector<Peer> parse_peers(const std::string& list) {
  std::vector<Peer> out;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    const auto it = std::find_if(std::begin(peer_table), std::end(peer_table),
                                 [&](const Peer& p) { return name == p.name; });
    if (it == std::end(peer_table)) {
      throw Error(ErrorKind::usage,
                  "unknown peer '" + name + "'; use as-written, eager and/or compiled");
    }
    out.push_back(*it);
  }
  return out;
}

struct Workload {
  std::string name;
  fs::path model;
  int batch = 16;
  int steps = 100;
};

struct LoopRun {
  double crop_steps_per_second = 0;
  double final_logit_mean = 0;
  double peak_mib = 0;        // resident (CPU) or allocated (GPU) peak
  double rss_growth_mib = 0;  // resident memory after the timed steps minus before them
  bool grew = false;          // by more than 20 MiB and 5 %
  std::string torch_version;
  double compile_seconds = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct Captured {
  int exit_code = 0;
  std::string output;
};

Captured run_capture(const std::string& command) {
  Captured c;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw Error(ErrorKind::internal, "cannot run: " + command);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe))
    c.output += buffer;
  const int status = ::pclose(pipe);
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return c;
}

std::string last_line(const std::string& s) {
  const auto end = s.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  const auto newline = s.rfind('\n', end);
  const auto begin = newline == std::string::npos ? 0 : newline + 1;
  return s.substr(begin, end - begin + 1);
}

// What a failed Python process said last, short enough for a one-line error.
std::string said(const std::string& output) {
  const std::string line = last_line(output);
  return line.size() > 200 ? line.substr(0, 197) + "..." : line;
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

LoopRun measure_inkgen(const InkModel& model, const Workload& w, int warmup, bool split_batch) {
  std::vector<at::Tensor> starts;
  for (const auto& s : noise_starts(model.card, w.batch, {}, 0))
    starts.push_back(s.values);
  const auto x = at::stack(starts);
  OptimizeOptions o;
  o.split_batch = split_batch;
  o.steps = warmup;
  optimize_input(model, x,
                 o);  // lets the graph executor specialise, as the reference's warm-up does
  reset_peak_device_memory(model.device);
  const double rss_before = resident_mib();
  o.steps = w.steps;
  const OptimizeResult r = optimize_input(model, x, o);
  const double rss_after = resident_mib();
  LoopRun run;
  // The steps alone, as the peers time their steps alone: scoring the start and the result
  // are two more forward passes, a tenth of a 5-step I3D run.
  run.crop_steps_per_second = w.steps * w.batch / r.step_seconds;
  for (const auto& s : r.final_scores)
    run.final_logit_mean += s.logit / static_cast<double>(r.final_scores.size());
  run.peak_mib = model.device.is_cuda() ? peak_device_mib(model.device) : peak_resident_mib();
  run.rss_growth_mib = rss_after - rss_before;
  run.grew = run.rss_growth_mib >= std::max(20.0, 0.05 * rss_before);
  return run;
}

// A peer's timed run; nullopt with `why` set when the peer cannot run on this Python's torch
// (reference_loop.py exits 3: torch.compile asked of a torch without it).
std::optional<LoopRun> measure_peer(const BenchOptions& o, const Peer& peer, const Workload& w,
                                    const c10::Device& device, int threads, std::string& why) {
  const std::string command =
      std::string(peer.tuned_malloc ? tuned_malloc_env : "") + quote(o.python) + " " +
      quote(o.reference) + " " + peer.arguments + " --model " + quote(w.model.string()) +
      " --batch " + std::to_string(w.batch) + " --steps " + std::to_string(w.steps) + " --warmup " +
      std::to_string(o.warmup) + " --threads " + std::to_string(threads) + " --device " +
      device.str() + " --precision " + o.precision + " 2>&1";
  const Captured c = run_capture(command);
  if (c.exit_code == 3) {
    why = said(c.output);
    return std::nullopt;
  }
  const auto brace = c.output.rfind('{');
  if (c.exit_code != 0 || brace == std::string::npos) {
    throw Error(ErrorKind::usage, "the " + std::string(peer.name) + " peer (" + o.reference +
                                      ") failed with exit code " + std::to_string(c.exit_code) +
                                      ": " + said(c.output) +
                                      "; check --python (it needs torch) and --reference");
  }
  const auto j = nlohmann::json::parse(c.output.substr(brace));
  LoopRun run;
  run.crop_steps_per_second = j["crop_steps_per_second"];
  run.final_logit_mean = j["final_logit_mean"];
  run.peak_mib =
      device.is_cuda() ? j["peak_cuda_mb"].get<double>() : j["peak_rss_mb"].get<double>();
  run.torch_version = j.value("torch_version", "");
  run.compile_seconds = j.value("compile_seconds", 0.0);
  return run;
}

// The machine's own dense 3D convolution throughput (forward, float32), the yardstick for
// how much of it a loop reaches.
double conv_peak_gflops(const c10::Device& device) {
  c10::NoGradGuard no_grad;
  const auto opts = at::TensorOptions().device(device);
  const auto x = at::rand({4, 32, 16, 64, 64}, opts), w = at::rand({32, 32, 3, 3, 3}, opts);
  const double flops = 2.0 * 4 * 32 * 16 * 64 * 64 * 32 * 27;
  at::conv3d(x, w, {}, 1, 1).sum().item<float>();
  const auto t0 = Clock::now();
  const int reps = 3;
  for (int i = 0; i < reps; ++i)
    at::conv3d(x, w, {}, 1, 1).sum().item<float>();
  return reps * flops / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9;
}

fs::path export_random_i3d(const BenchOptions& o, const fs::path& dir) {
  const fs::path model = dir / "gp-i3d-random.pt";
  if (fs::exists(model)) return model;
  fs::create_directories(dir);
  const std::string exporter = (fs::path(INKGEN_SOURCE_DIR) / "models" / "export_gp.py").string();
  spdlog::info("exporting a random-weight Grand Prize I3D to {} (once)", model.string());
  const Captured c = run_capture(
      quote(o.python) + " " + quote(exporter) + " --arch i3d --random-init --seed 0 --ckpt " +
      quote((dir / "gp-i3d-random.ckpt").string()) + " --out " + quote(model.string()) + " 2>&1");
  if (c.exit_code != 0) {
    throw Error(ErrorKind::usage, "exporting the random-weight I3D failed: " + said(c.output) +
                                      "; check --python (it needs torch) or give --gp-model");
  }
  fs::remove(dir / "gp-i3d-random.ckpt");
  return model;
}

const char* const workload_names[] = {"bundled", "keras", "gp-i3d"};

// Before the banner and before any model is exported: a typo costs nothing.
void check_workloads(const BenchOptions& o) {
  std::stringstream in(o.workloads);
  std::string name;
  bool any = false;
  while (std::getline(in, name, ',')) {
    any = true;
    if (std::find(std::begin(workload_names), std::end(workload_names), name) ==
        std::end(workload_names)) {
      throw Error(ErrorKind::usage,
                  "unknown workload '" + excerpt(name) + "'; use bundled, keras and/or gp-i3d");
    }
    // The shared model is skipped when ../shared is absent; one the user names must exist.
    if (name == "keras" && o.keras_model != shared_keras_model() && !fs::exists(o.keras_model)) {
      throw Error(ErrorKind::model, "--keras-model '" + excerpt(o.keras_model) +
                                        "' not found; give the path of the Keras port");
    }
  }
  if (!any) throw Error(ErrorKind::usage, "--workloads is empty; use bundled, keras and/or gp-i3d");
}

std::vector<Workload> plan(const BenchOptions& o, const c10::Device& device) {
  std::vector<Workload> out;
  std::stringstream list(o.workloads);
  std::string name;
  while (std::getline(list, name, ',')) {
    if (name == "bundled") {
      out.push_back({name, bundled_model_path(), o.batch, o.steps});
    } else if (name == "keras") {
      if (!fs::exists(o.keras_model)) {
        spdlog::warn("skipping keras: {} not found (../shared is absent)", o.keras_model);
        continue;
      }
      out.push_back({name, o.keras_model, o.batch, o.steps});
    } else {  // gp-i3d: the names were checked
      const fs::path model = o.gp_model.empty()
                                 ? export_random_i3d(o, fs::temp_directory_path() / "inkgen-bench")
                                 : fs::path(o.gp_model);
      // Seconds per step on a CPU: a small batch and a few steps say enough there.
      out.push_back(device.is_cuda() ? Workload{name, model, o.batch, o.steps}
                                     : Workload{name, model, 2, 5});
    }
  }
  return out;
}

struct PeerResult {
  const Peer* peer;
  std::vector<LoopRun> runs;  // empty when the peer cannot run here
  std::string unavailable;
};

// inkgen with one of its levers off: its runs, and where they go in the JSON.
struct Lever {
  const char* name;         // the row's label
  const char* without_key;  // inkgen.<key>: the speed without the lever
  const char* gain_key;     // inkgen.<key>.gain: inkgen's speed over it
  const char* what;
  const InkModel* model;
  bool split_batch;
  std::vector<LoopRun> runs;
};

double median_speed(const std::vector<LoopRun>& runs) {
  std::vector<double> v;
  for (const auto& r : runs)
    v.push_back(r.crop_steps_per_second);
  return median(v);
}

nlohmann::json speeds(const std::vector<LoopRun>& runs) {
  auto j = nlohmann::json::array();
  for (const auto& r : runs)
    j.push_back(r.crop_steps_per_second);
  return j;
}

double median_peak(const std::vector<LoopRun>& runs) {
  std::vector<double> v;
  for (const auto& r : runs)
    v.push_back(r.peak_mib);
  return median(v);
}

int run_bench(const BenchOptions& o, const Context& context) {
  if (o.steps < 1 || o.batch < 1 || o.repeats < 1 || o.warmup < 0) {
    throw Error(ErrorKind::usage, "--steps, --batch and --repeats must be at least 1");
  }
  const std::vector<Peer> peers = parse_peers(o.peers);
  check_workloads(o);
  // Heard between timed runs (each is seconds long); half a benchmark says nothing.
  const auto check_stop = [&context] {
    if (context.stop_requested.load())
      throw Error(ErrorKind::interrupted, "bench interrupted before every workload was measured");
  };
  LoadOptions load;
  load.device = resolve_device(context.global.device);
  load.precision = parse_precision(o.precision);
  const int threads = at::get_num_threads();
  const double peak = conv_peak_gflops(load.device);
  nlohmann::json report = {{"inkgen_version", INKGEN_VERSION},
                           {"torch_version", TORCH_VERSION},
                           {"python", o.python},
                           {"device", load.device.str()},
                           {"threads", threads},
                           {"precision", o.precision},
                           {"conv3d_peak_gflops", peak},
                           {"workloads", nlohmann::json::array()}};
  if (!context.global.quiet) {
    std::fprintf(stderr, "LibTorch %s, device %s, %d threads, dense conv3d %.1f GFLOP/s\n",
                 TORCH_VERSION, load.device.str().c_str(), threads, peak);
  }
  bool version_checked = false;
  for (const Workload& w : plan(o, load.device)) {
    const InkModel model = load_ink_model(w.model, load);
    // inkgen without each of its levers, where the lever applies, in the same alternation: what
    // each gives, measured in every bench run.
    std::optional<InkModel> plain;
    if (model.single_channel_convolutions + model.window_max_pools > 0) {
      LoadOptions libtorch = load;
      libtorch.kernels = Kernels::libtorch;
      plain = load_ink_model(w.model, libtorch);
    }
    std::vector<Lever> levers;
    if (plain) {
      levers.push_back({"libtorch-kernels",
                        "with_libtorch_kernels",
                        "own_kernels",
                        "inkgen with LibTorch running every operation: what its own kernels give",
                        &*plain,
                        true,
                        {}});
    }
    if (load.device.is_cpu() && plan_row_parts(threads, w.batch).size() > 1) {
      levers.push_back({"whole-batch",
                        "whole_batch",
                        "split_batch",
                        "inkgen with each step's batch whole over all threads: what one part of "
                        "the batch per thread gives",
                        &model,
                        false,
                        {}});
    }
    // Useful work of a step: the forward pass and the gradient of the input, which costs
    // the forward's multiply-adds again (weights get no gradient in inkgen's result).
    const double flops_per_crop_step = 4.0 * static_cast<double>(forward_macs(model, 1));
    std::vector<LoopRun> ours;
    std::vector<PeerResult> theirs;
    for (const Peer& p : peers)
      theirs.push_back({&p, {}, ""});
    // Alternating runs, so that a slow minute of a shared machine hits every loop alike.
    for (int r = 0; r < o.repeats; ++r) {
      check_stop();
      ours.push_back(measure_inkgen(model, w, o.warmup, true));
      if (!context.global.quiet) {
        std::fprintf(stderr, "  %s run %d/%d: inkgen %.2f", w.name.c_str(), r + 1, o.repeats,
                     ours.back().crop_steps_per_second);
      }
      for (Lever& l : levers) {
        check_stop();
        l.runs.push_back(measure_inkgen(*l.model, w, o.warmup, l.split_batch));
        if (!context.global.quiet)
          std::fprintf(stderr, ", %s %.2f", l.name, l.runs.back().crop_steps_per_second);
      }
      for (PeerResult& t : theirs) {
        if (!t.unavailable.empty()) continue;
        check_stop();
        const auto run = measure_peer(o, *t.peer, w, load.device, threads, t.unavailable);
        if (!run) {
          spdlog::warn("peer {} unavailable: {}", t.peer->name, t.unavailable);
          continue;
        }
        if (!version_checked && run->torch_version.rfind(TORCH_VERSION, 0) != 0) {
          spdlog::warn(
              "the peers run torch {} but inkgen was built against LibTorch {}; give "
              "--python a Python with the same torch for a like-for-like figure",
              run->torch_version, TORCH_VERSION);
        }
        version_checked = true;
        t.runs.push_back(*run);
        if (!context.global.quiet) {
          std::fprintf(stderr, ", %s %.2f", t.peer->name, run->crop_steps_per_second);
        }
      }
      if (!context.global.quiet) std::fprintf(stderr, " crop-steps/s\n");
    }
    const double a = median_speed(ours);
    // A leak grows the process in every run; glibc's heaps (one per thread that allocates) grow
    // in a few jumps and then stop. So memory counts as growing when it grew in most runs.
    std::vector<double> growth;
    int grew = 0;
    for (const auto& r : ours) {
      growth.push_back(r.rss_growth_mib);
      grew += r.grew ? 1 : 0;
    }
    const bool flat = 2 * grew <= static_cast<int>(ours.size());
    const double gflops = a * flops_per_crop_step / 1e9;
    nlohmann::json j = {{"workload", w.name},
                        {"model", w.model.string()},
                        {"batch", w.batch},
                        {"steps", w.steps},
                        {"gflop_per_crop_step", flops_per_crop_step / 1e9},
                        {"inkgen",
                         {{"crop_steps_per_second", a},
                          {"gflops", gflops},
                          {"fraction_of_conv_peak", gflops / peak},
                          {"peak_mib", median_peak(ours)},
                          {"memory_flat", flat},
                          {"memory_growth_mib", growth},
                          {"final_logit_mean", ours.back().final_logit_mean},
                          {"runs", speeds(ours)}}},
                        {"peers", nlohmann::json::object()}};
    j["inkgen"]["own_kernels"] = {
        {"single_channel_convolutions", model.single_channel_convolutions},
        {"window_max_pools", model.window_max_pools}};
    for (const Lever& l : levers) {
      j["inkgen"][l.without_key] = {{"crop_steps_per_second", median_speed(l.runs)},
                                    {"runs", speeds(l.runs)}};
      j["inkgen"][l.gain_key]["gain"] = a / median_speed(l.runs);
    }
    const PeerResult* best = nullptr;
    for (const PeerResult& t : theirs) {
      if (t.runs.empty()) {
        j["peers"][t.peer->name] = {{"available", false}, {"why", t.unavailable}};
        continue;
      }
      const double b = median_speed(t.runs);
      j["peers"][t.peer->name] = {{"available", true},
                                  {"description", t.peer->description},
                                  {"crop_steps_per_second", b},
                                  {"ratio", a / b},
                                  {"gflops", b * flops_per_crop_step / 1e9},
                                  {"peak_mib", median_peak(t.runs)},
                                  {"final_logit_mean", t.runs.back().final_logit_mean},
                                  {"torch_version", t.runs.back().torch_version},
                                  {"compile_seconds", t.runs.back().compile_seconds},
                                  {"runs", speeds(t.runs)}};
      if (!best || b > median_speed(best->runs)) best = &t;
    }
    if (best) {
      j["best_peer"] = best->peer->name;
      j["ratio_to_best_peer"] = a / median_speed(best->runs);
    }
    report["workloads"].push_back(j);
    if (!context.global.json) {
      std::printf(
          "%-8s batch %2d x %3d steps: inkgen %8.2f crop-steps/s  %.1f GFLOP/s (%.0f%% of "
          "conv peak)  peak %s %.0f MiB  memory %s\n",
          w.name.c_str(), w.batch, w.steps, a, gflops, 100.0 * gflops / peak,
          load.device.is_cuda() ? "GPU" : "RSS", median_peak(ours), flat ? "flat" : "GREW");
      for (const Lever& l : levers) {
        const double b = median_speed(l.runs);
        std::printf("  %-10s %8.2f crop-steps/s  inkgen %.2fx  (%s)\n", l.name, b, a / b, l.what);
      }
      for (const PeerResult& t : theirs) {
        if (t.runs.empty()) {
          std::printf("  %-10s unavailable: %s\n", t.peer->name, t.unavailable.c_str());
          continue;
        }
        const double b = median_speed(t.runs);
        std::printf("  %-10s %8.2f crop-steps/s  inkgen %.2fx  peak %.0f MiB  (%s)\n", t.peer->name,
                    b, a / b, median_peak(t.runs), t.peer->description);
      }
      if (best) {
        std::printf("  against the best peer (%s): %.2fx\n", best->peer->name,
                    a / median_speed(best->runs));
      }
      std::fflush(stdout);
    }
  }
  if (context.global.json) print_json(report);
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& parent, const Context& context) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* app = parent.add_subcommand(
      "bench",
      "Speed of inkgen's loop against the same loop in Python PyTorch, eager and compiled");
  app->add_option("--workloads", o->workloads, "Comma list of bundled, keras, gp-i3d")
      ->capture_default_str();
  // Bounded up front: a benchmark of days (or of a batch no memory holds) is a typo.
  app->add_option("--steps", o->steps, "Steps per timed run")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app->add_option("--batch", o->batch, "Starts per batch")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app->add_option("--repeats", o->repeats, "Alternating runs of each loop; medians are reported")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app->add_option("--warmup", o->warmup, "Untimed steps before each timed run")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app->add_option("--peers", o->peers,
                  "Comma list of the Python loops to run beside inkgen's: as-written, eager, "
                  "compiled (tests/bench/reference_loop.py says what each is)")
      ->capture_default_str();
  app->add_option("--python", o->python,
                  "Python with torch, for the peers (default: the torch inkgen was built against "
                  "when the build named one)")
      ->capture_default_str();
  app->add_option("--reference", o->reference, "The peers' script");
  app->add_option("--keras-model", o->keras_model, "The shared Keras port (workload keras)");
  app->add_option("--gp-model", o->gp_model,
                  "An exported Grand Prize I3D (default: random weights, exported once)");
  app->add_option("--precision", o->precision, "inkgen's model arithmetic: fp32, bf16, fp16")
      ->capture_default_str();
  return {app, [o, &context]() { return run_bench(*o, context); }};
}

}  // namespace inkgen::cli
