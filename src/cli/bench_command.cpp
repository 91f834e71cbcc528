// `inkgen bench`: inkgen's optimization loop against the same loop written in Python PyTorch, run
// alternately on the same model, batch, steps, threads and device; medians of the repeats.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/device.hpp"
#include "inkgen/error.hpp"
#include "inkgen/flop_counter.hpp"
#include "inkgen/optimization.hpp"
#include "inkgen/process_memory.hpp"
#include "inkgen/start_volume.hpp"
#include "inkgen/version.hpp"

namespace inkgen::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string workloads = "bundled,keras,gp-i3d";
  int steps = 100;
  int batch = 16;
  int repeats = 3;
  int warmup = 3;
  std::string python = "/usr/bin/python3";
  std::string reference =
      (fs::path(INKGEN_SOURCE_DIR) / "tests" / "bench" / "reference_loop.py").string();
  std::string keras_model =
      (fs::path(INKGEN_SOURCE_DIR).parent_path() / "shared" / "models" / "keras-patch-x65m25.pt")
          .string();
  std::string gp_model;
  std::string precision = "fp32";
  bool tuned_reference = true;
};

// The glibc settings of allocator_tuning.cpp as environment variables: a Python process run with
// them reuses freed memory as inkgen does, which shows how much of inkgen's lead is the allocator.
constexpr const char* tuned_malloc_env =
    "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 ";

struct Workload {
  std::string name;
  fs::path model;
  int batch = 16;
  int steps = 100;
};

struct LoopRun {
  double crop_steps_per_second = 0;
  double final_logit_mean = 0;
  double peak_mib = 0;  // resident (CPU) or allocated (GPU) peak
  bool flat = true;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw Error(ErrorKind::internal, "cannot run: " + command);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe))
    out += buffer;
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw Error(ErrorKind::usage, "the reference loop failed (" + command +
                                      "): " + out.substr(out.size() > 300 ? out.size() - 300 : 0) +
                                      "; check --python (it needs torch) and --reference");
  }
  return out;
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

LoopRun measure_inkgen(const InkModel& model, const Workload& w, int warmup) {
  std::vector<at::Tensor> starts;
  for (const auto& s : noise_starts(model.card, w.batch, {}, 0))
    starts.push_back(s.values);
  const auto x = at::stack(starts);
  OptimizeOptions o;
  o.steps = warmup;
  optimize_input(model, x,
                 o);  // lets the graph executor specialise, as the reference's warm-up does
  reset_peak_device_memory(model.device);
  const double rss_before = resident_mib();
  o.steps = w.steps;
  const OptimizeResult r = optimize_input(model, x, o);
  const double rss_after = resident_mib();
  LoopRun run;
  // The steps alone, as the reference times its steps alone: scoring the start and the result
  // are two more forward passes, a tenth of a 5-step I3D run.
  run.crop_steps_per_second = w.steps * w.batch / r.step_seconds;
  for (const auto& s : r.final_scores)
    run.final_logit_mean += s.logit / static_cast<double>(r.final_scores.size());
  run.peak_mib = model.device.is_cuda() ? peak_device_mib(model.device) : peak_resident_mib();
  run.flat = rss_after - rss_before < std::max(20.0, 0.05 * rss_before);
  return run;
}

LoopRun measure_reference(const BenchOptions& o, const Workload& w, const c10::Device& device,
                          int threads, bool tuned_malloc) {
  const std::string command = std::string(tuned_malloc ? tuned_malloc_env : "") + quote(o.python) +
                              " " + quote(o.reference) + " --model " + quote(w.model.string()) +
                              " --batch " + std::to_string(w.batch) + " --steps " +
                              std::to_string(w.steps) + " --warmup " + std::to_string(o.warmup) +
                              " --threads " + std::to_string(threads) + " --device " +
                              device.str() + " 2>&1";
  const std::string out = run_capture(command);
  const auto line = out.substr(out.rfind('{'));
  const auto j = nlohmann::json::parse(line);
  LoopRun run;
  run.crop_steps_per_second = j["crop_steps_per_second"];
  run.final_logit_mean = j["final_logit_mean"];
  run.peak_mib =
      device.is_cuda() ? j["peak_cuda_mb"].get<double>() : j["peak_rss_mb"].get<double>();
  return run;
}

// The machine's own dense 3D convolution throughput (forward, float32), the yardstick for
// how much of it a loop reaches.
double conv_peak_gflops(const c10::Device& device) {
  at::NoGradGuard no_grad;
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
  run_capture(
      quote(o.python) + " " + quote(exporter) + " --arch i3d --random-init --seed 0 --ckpt " +
      quote((dir / "gp-i3d-random.ckpt").string()) + " --out " + quote(model.string()) + " 2>&1");
  fs::remove(dir / "gp-i3d-random.ckpt");
  return model;
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
    } else if (name == "gp-i3d") {
      const fs::path model = o.gp_model.empty()
                                 ? export_random_i3d(o, fs::temp_directory_path() / "inkgen-bench")
                                 : fs::path(o.gp_model);
      // Seconds per step on a CPU: a small batch and a few steps say enough there.
      out.push_back(device.is_cuda() ? Workload{name, model, o.batch, o.steps}
                                     : Workload{name, model, 2, 5});
    } else {
      throw Error(ErrorKind::usage,
                  "unknown workload '" + name + "'; use bundled, keras and/or gp-i3d");
    }
  }
  return out;
}

int run_bench(const BenchOptions& o, const Context& context) {
  if (o.steps < 1 || o.batch < 1 || o.repeats < 1 || o.warmup < 0) {
    throw Error(ErrorKind::usage, "--steps, --batch and --repeats must be at least 1");
  }
  LoadOptions load;
  load.device = resolve_device(context.global.device);
  load.precision = parse_precision(o.precision);
  const int threads = at::get_num_threads();
  const double peak = conv_peak_gflops(load.device);
  nlohmann::json report = {{"inkgen_version", INKGEN_VERSION},
                           {"device", load.device.str()},
                           {"threads", threads},
                           {"precision", o.precision},
                           {"conv3d_peak_gflops", peak},
                           {"workloads", nlohmann::json::array()}};
  if (!context.global.quiet) {
    std::fprintf(stderr, "device %s, %d threads, dense conv3d %.1f GFLOP/s\n",
                 load.device.str().c_str(), threads, peak);
  }
  for (const Workload& w : plan(o, load.device)) {
    const InkModel model = load_ink_model(w.model, load);
    // Useful work of a step: the forward pass and the gradient of the input, which costs
    // the forward's multiply-adds again (weights get no gradient in either loop's
    // result).
    const double flops_per_crop_step = 4.0 * static_cast<double>(forward_macs(model, 1));
    const bool tuned = o.tuned_reference && !load.device.is_cuda();
    std::vector<double> ours, theirs, theirs_tuned, our_peak, their_peak;
    bool flat = true;
    double our_logit = 0, their_logit = 0;
    for (int r = 0; r < o.repeats; ++r) {
      const LoopRun a = measure_inkgen(model, w, o.warmup);
      const LoopRun b = measure_reference(o, w, load.device, threads, false);
      ours.push_back(a.crop_steps_per_second);
      theirs.push_back(b.crop_steps_per_second);
      if (tuned) {
        theirs_tuned.push_back(
            measure_reference(o, w, load.device, threads, true).crop_steps_per_second);
      }
      our_peak.push_back(a.peak_mib);
      their_peak.push_back(b.peak_mib);
      flat = flat && a.flat;
      our_logit = a.final_logit_mean;
      their_logit = b.final_logit_mean;
      if (!context.global.quiet) {
        std::fprintf(stderr, "  %s run %d/%d: inkgen %.2f, reference %.2f", w.name.c_str(), r + 1,
                     o.repeats, a.crop_steps_per_second, b.crop_steps_per_second);
        if (tuned) std::fprintf(stderr, ", tuned reference %.2f", theirs_tuned.back());
        std::fprintf(stderr, " crop-steps/s\n");
      }
    }
    const double a = median(ours), b = median(theirs);
    nlohmann::json j = {{"workload", w.name},
                        {"model", w.model.string()},
                        {"batch", w.batch},
                        {"steps", w.steps},
                        {"inkgen_crop_steps_per_second", a},
                        {"reference_crop_steps_per_second", b},
                        {"ratio", a / b},
                        {"gflop_per_crop_step", flops_per_crop_step / 1e9},
                        {"inkgen_gflops", a * flops_per_crop_step / 1e9},
                        {"reference_gflops", b * flops_per_crop_step / 1e9},
                        {"inkgen_fraction_of_conv_peak", a * flops_per_crop_step / 1e9 / peak},
                        {"inkgen_peak_mib", median(our_peak)},
                        {"reference_peak_mib", median(their_peak)},
                        {"inkgen_memory_flat", flat},
                        {"inkgen_final_logit_mean", our_logit},
                        {"reference_final_logit_mean", their_logit},
                        {"runs", {{"inkgen", ours}, {"reference", theirs}}}};
    if (tuned) {
      const double t = median(theirs_tuned);
      j["tuned_reference_crop_steps_per_second"] = t;
      j["ratio_to_tuned_reference"] = a / t;
      j["runs"]["tuned_reference"] = theirs_tuned;
    }
    report["workloads"].push_back(j);
    if (!context.global.json) {
      std::printf(
          "%-8s batch %2d x %3d steps: inkgen %8.2f  reference %8.2f crop-steps/s  ratio "
          "%.2fx  "
          "inkgen %.1f GFLOP/s (%.0f%% of conv peak)  peak %s %.0f/%.0f MiB  memory %s\n",
          w.name.c_str(), w.batch, w.steps, a, b, a / b, a * flops_per_crop_step / 1e9,
          100.0 * a * flops_per_crop_step / 1e9 / peak, load.device.is_cuda() ? "GPU" : "RSS",
          median(our_peak), median(their_peak), flat ? "flat" : "GREW");
      if (tuned) {
        const double t = median(theirs_tuned);
        std::printf(
            "%-8s reference with glibc malloc tuned as inkgen's: %8.2f crop-steps/s  "
            "ratio %.2fx\n",
            "", t, a / t);
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
      "bench", "Speed of inkgen's loop against the same loop in Python PyTorch");
  app->add_option("--workloads", o->workloads, "Comma list of bundled, keras, gp-i3d")
      ->capture_default_str();
  app->add_option("--steps", o->steps, "Steps per timed run")->capture_default_str();
  app->add_option("--batch", o->batch, "Starts per batch")->capture_default_str();
  app->add_option("--repeats", o->repeats, "Alternating runs of each loop; medians are reported")
      ->capture_default_str();
  app->add_option("--warmup", o->warmup, "Untimed steps before each timed run")
      ->capture_default_str();
  app->add_option("--python", o->python, "Python with torch, for the reference loop")
      ->capture_default_str();
  app->add_option("--reference", o->reference, "The reference loop script");
  app->add_option("--keras-model", o->keras_model, "The shared Keras port (workload keras)");
  app->add_option("--gp-model", o->gp_model,
                  "An exported Grand Prize I3D (default: random weights, exported once)");
  app->add_option("--precision", o->precision, "inkgen's model arithmetic: fp32, bf16, fp16")
      ->capture_default_str();
  app->add_flag("!--no-tuned-reference", o->tuned_reference,
                "Skip the third loop: the reference with glibc malloc tuned as inkgen tunes it "
                "(CPU only)");
  return {app, [o, &context]() { return run_bench(*o, context); }};
}

}  // namespace inkgen::cli
