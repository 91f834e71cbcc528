#include "inkgen/job_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "inkgen/crop_tiling.hpp"
#include "inkgen/run_record.hpp"
#include "inkgen/segment.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

template <typename T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (!into) into = from;
}

// The line's keys over the command line's defaults.
JobRequest merge(JobRequest line, const JobRequest& d) {
  take(line.mode, d.mode);
  take(line.source, d.source);
  take(line.segment, d.segment);
  if (!line.crops_kind) {
    line.crops_kind = d.crops_kind;
    line.crops = d.crops;
  }
  take(line.stride, d.stride);
  take(line.sample, d.sample);
  take(line.sample_seed, d.sample_seed);
  take(line.count, d.count);
  take(line.name, d.name);
  take(line.model, d.model);
  take(line.input_shape, d.input_shape);
  take(line.scale, d.scale);
  take(line.range, d.range);
  take(line.output_kind, d.output_kind);
  take(line.z0, d.z0);
  take(line.steps, d.steps);
  take(line.lr, d.lr);
  take(line.optimizer, d.optimizer);
  take(line.decay, d.decay);
  take(line.seed, d.seed);
  take(line.noise, d.noise);
  take(line.noise_range, d.noise_range);
  take(line.clamp, d.clamp);
  take(line.l2, d.l2);
  take(line.tv, d.tv);
  take(line.jitter, d.jitter);
  take(line.blur_every, d.blur_every);
  take(line.blur_sigma, d.blur_sigma);
  take(line.report_every, d.report_every);
  take(line.save_every, d.save_every);
  take(line.objective, d.objective);
  take(line.param, d.param);
  take(line.fourier_decay, d.fourier_decay);
  take(line.robust, d.robust);
  take(line.diversity, d.diversity);
  take(line.stop_at, d.stop_at);
  take(line.precision, d.precision);
  take(line.freeze, d.freeze);
  return line;
}

[[noreturn]] void bad(const std::string& message) {
  throw Error(ErrorKind::usage, message);
}

std::array<double, 2> parse_pair(const std::string& text, const std::string& key) {
  double lo = 0, hi = 0;
  char comma = 0;
  std::istringstream in(text);
  if (!(in >> lo >> comma >> hi) || comma != ',' || !(in >> std::ws).eof() || !(lo < hi)) {
    bad(key + " '" + text + "' is not lo,hi with lo < hi; e.g. " + key + " 0.2,0.6");
  }
  return {lo, hi};
}

std::string hex64(std::uint64_t v) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

// FNV-1a: a short stable digest; collisions only matter between versions of one job.
std::string digest(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return hex64(h);
}

fs::path resolve(const std::string& path, const fs::path& base) {
  const fs::path p(path);
  return p.is_absolute() || base.empty() ? p : (base / p).lexically_normal();
}

// What every job of one line shares, checked once.
struct LineTemplate {
  Direction direction = Direction::maximize;
  JobSource source = JobSource::segment;
  ModelRef model;
  std::string model_as_written;
  OptimizeOptions optimize;
  NoiseSpec noise;
  std::string name;
  std::optional<int> z0;
  nlohmann::json options;  // without the per-job values (crop, noise index)
};

LineTemplate make_template(const JobRequest& r, const JobRequest& own, const fs::path& base,
                           bool from_file) {
  LineTemplate t;
  if (!r.mode) bad("no mode; add \"mode\": \"maximize\" or \"minimize\" (or give --mode)");
  if (*r.mode != "maximize" && *r.mode != "minimize")
    bad("mode \"" + *r.mode + "\" is neither maximize nor minimize");
  t.direction = *r.mode == "maximize" ? Direction::maximize : Direction::minimize;
  const std::string source = r.source.value_or(r.segment ? "segment" : "noise");
  if (source != "noise" && source != "segment")
    bad("source \"" + source + "\" is neither noise nor segment");
  t.source = source == "noise" ? JobSource::noise : JobSource::segment;

  if (t.source == JobSource::segment) {
    if (!r.segment) bad("a segment job needs \"segment\": DIR");
    if (!r.crops_kind)
      bad("a segment job needs \"crops\": \"auto\" or a list of crops (or give --crops)");
  } else {
    if (r.segment || r.crops_kind)
      bad("\"segment\" and \"crops\" belong to segment jobs; drop them or set \"source\": "
          "\"segment\"");
  }
  if (r.crops_kind != CropsKind::tiled && (own.stride || own.sample || own.sample_seed))
    bad("\"stride\", \"sample\" and \"sample-seed\" belong to \"crops\": \"auto\"");
  if (r.stride && *r.stride < 1)
    bad("stride must be at least 1 pixel, got " + std::to_string(*r.stride));
  if (r.sample && *r.sample < 0)
    bad("sample must be >= 0 (0: all), got " + std::to_string(*r.sample));
  if (t.source == JobSource::segment && own.count)
    bad("\"count\" (noise starts) belongs to noise jobs");
  const int count = r.count.value_or(1);
  if (count < 1 || count > 100000)
    bad("count must be 1..100000 noise starts, got " + std::to_string(count));
  if (r.name) {
    const std::string& n = *r.name;
    const bool ok =
        !n.empty() && n.size() <= 64 && n[0] != '.' && std::all_of(n.begin(), n.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    if (!ok) bad("name \"" + n + "\" must be 1..64 of A-Z a-z 0-9 . _ - (not starting with .)");
    t.name = n;
  }

  t.model_as_written = r.model.value_or("");
  t.model.path = r.model ? (own.model && from_file ? resolve(*r.model, base) : fs::path(*r.model))
                         : bundled_model_path();
  auto& o = t.model.overrides;
  if (r.input_shape) o.input_shape = parse_input_shape(*r.input_shape);
  if (r.scale) o.scale = parse_value_scale(*r.scale).text();
  if (r.range) o.range = parse_pair(*r.range, "--range");
  if (r.output_kind) o.output_kind = parse_output_kind(*r.output_kind);
  t.model.precision = parse_precision(r.precision.value_or("fp32"));
  t.model.freeze = r.freeze.value_or(true) ? Freeze::yes : Freeze::no;
  t.model.key = t.model.path.string() + "|" + r.input_shape.value_or("") + "|" +
                o.scale.value_or("") + "|" + r.range.value_or("") + "|" +
                r.output_kind.value_or("") + "|" + to_string(t.model.precision) + "|" +
                (t.model.freeze == Freeze::yes ? "frozen" : "unfrozen");

  auto& opt = t.optimize;
  opt.direction = t.direction;
  opt.steps = r.steps.value_or(200);
  opt.rule.kind = parse_optimizer_kind(r.optimizer.value_or("adam"));
  opt.rule.lr = r.lr.value_or(default_learning_rate(opt.rule.kind));
  opt.rule.decay = r.decay.value_or(0.2);
  auto& reg = opt.regularizers;
  reg.l2 = r.l2.value_or(0.0);
  reg.tv = r.tv.value_or(0.0);
  reg.jitter = r.jitter.value_or(0);
  reg.blur_every = r.blur_every.value_or(0);
  reg.blur_sigma = r.blur_sigma.value_or(0.5);
  reg.robust = parse_robustness(r.robust.value_or("off"));
  reg.diversity = r.diversity.value_or(0.0);
  opt.objective = parse_objective(r.objective.value_or("logit"));
  opt.param = parse_param_kind(r.param.value_or("pixel"));
  opt.fourier_decay = r.fourier_decay.value_or(1.0);
  // As the single commands: a noise start may become anything in range; a real crop should stay
  // itself where unchanged.
  opt.fourier_range =
      t.source == JobSource::segment ? FourierRange::clamp_around_start : FourierRange::sigmoid;
  opt.stop_at = r.stop_at;
  opt.clamp = r.clamp.value_or(true);
  opt.seed = r.seed.value_or(0);
  opt.report_every = std::max(1, r.report_every.value_or(10));
  opt.save_every = r.save_every.value_or(0);
  check_options(opt);
  if (r.z0 && *r.z0 < 0) bad("--z0 must be >= 0, got " + std::to_string(*r.z0));
  t.z0 = r.z0;
  t.noise.kind = parse_noise_kind(r.noise.value_or("uniform"));
  if (r.noise_range) t.noise.range = parse_pair(*r.noise_range, "--noise-range");

  t.options = optimize_options_json(opt);
  t.options.update({{"source", source},
                    {"z0", r.z0 ? nlohmann::json(*r.z0) : nlohmann::json("card")},
                    {"model", t.model_as_written.empty() ? "bundled" : t.model_as_written},
                    {"input_shape", r.input_shape.value_or("card")},
                    {"scale", r.scale.value_or("card")},
                    {"range", r.range.value_or("card")},
                    {"output_kind", r.output_kind.value_or("card")},
                    {"name", t.name},
                    {"precision", to_string(t.model.precision)},
                    {"freeze", t.model.freeze == Freeze::yes}});
  if (t.source == JobSource::noise) {
    t.options["noise"] = to_string(t.noise.kind);
    t.options["noise_range"] = r.noise_range.value_or("card");
  }
  return t;
}

BatchJob job_from(const LineTemplate& t, int line) {
  BatchJob job;
  job.line = line;
  job.direction = t.direction;
  job.source = t.source;
  job.model = t.model;
  job.optimize = t.optimize;
  job.noise = t.noise;
  job.z0 = t.z0;
  job.options = t.options;
  job.options["jobs_line"] = line;
  // Jobs that differ only in what they start from may share a device batch.
  nlohmann::json shared = t.options;
  shared.erase("name");
  job.group = t.model.key + "|" + shared.dump();
  return job;
}

void finish_job(BatchJob& job) {
  nlohmann::json shaping = job.options;
  for (const char* k : {"jobs_line", "report_every", "save_every", "segment"})
    shaping.erase(k);
  job.fingerprint = digest(shaping.dump());
}

}  // namespace

const char* to_string(JobSource source) {
  return source == JobSource::noise ? "noise" : "segment";
}

std::string segment_job_key(const std::string& segment_name, const Crop& crop, Direction direction,
                            const std::string& name) {
  return segment_name + "/" + std::to_string(crop.x1) + "_" + std::to_string(crop.y1) + "_" +
         std::to_string(crop.x2) + "_" + std::to_string(crop.y2) + "/" + to_string(direction) +
         "-segment" + (name.empty() ? "" : "-" + name);
}

std::string noise_job_key(std::uint64_t seed, int index, Direction direction,
                          const std::string& name) {
  return "noise/seed-" + std::to_string(seed) + "-" + std::to_string(index) + "/" +
         to_string(direction) + "-noise" + (name.empty() ? "" : "-" + name);
}

JobPlan plan_jobs(const std::vector<JobRequest>& lines, const JobRequest& defaults,
                  const PlanContext& context, ModelCache& models) {
  // A bad default is the command line's fault: say so before blaming every line for it.
  {
    JobRequest probe = defaults;
    if (!probe.mode) probe.mode = "maximize";
    probe.source = "noise";
    probe.segment.reset();
    probe.crops_kind.reset();
    probe.count.reset();
    make_template(probe, JobRequest{}, {}, false);
  }
  JobPlan plan;
  std::map<std::string, int> line_of_key;
  std::map<std::string, std::pair<fs::path, int>> segment_of_name;
  const auto add = [&](BatchJob job) {
    finish_job(job);
    const auto [it, fresh] = line_of_key.emplace(job.key, job.line);
    if (!fresh) {
      throw Error(ErrorKind::input, context.origin + " lines " + std::to_string(it->second) +
                                        " and " + std::to_string(job.line) + " both write " +
                                        job.key +
                                        "; give one of them another \"name\" (or drop the repeat)");
    }
    job.index = plan.jobs.size();
    plan.jobs.push_back(std::move(job));
  };

  for (const JobRequest& own : lines) {
    const auto where = context.origin + " line " + std::to_string(own.line) + ": ";
    JobRequest line = own;
    if (line.segment) line.segment = resolve(*line.segment, context.base_dir).string();
    const JobRequest r = merge(line, defaults);
    LineTemplate t;
    try {
      t = make_template(r, own, context.base_dir, true);
    } catch (const Error& e) {
      throw Error(ErrorKind::input, where + e.what());
    }

    if (t.source == JobSource::noise) {
      const int count = r.count.value_or(1);
      for (int i = 0; i < count; ++i) {
        BatchJob job = job_from(t, own.line);
        job.noise_index = i;
        job.key = noise_job_key(t.optimize.seed, i, t.direction, t.name);
        job.options["noise_index"] = i;
        add(std::move(job));
      }
      continue;
    }

    const fs::path segment_dir = *r.segment;
    const std::string name = segment_name(segment_dir);
    {
      std::error_code ec;
      const fs::path canonical = fs::weakly_canonical(segment_dir, ec);
      const auto [it, fresh] =
          segment_of_name.emplace(name, std::make_pair(ec ? segment_dir : canonical, own.line));
      if (!fresh && it->second.first != (ec ? segment_dir : canonical)) {
        throw Error(ErrorKind::input,
                    where + "segment " + segment_dir.string() + " has the name '" + name +
                        "' of another segment (" + it->second.first.string() + ", line " +
                        std::to_string(it->second.second) +
                        "); their folders under --out would mix: run them in two batches");
      }
    }
    t.options["segment"] = segment_dir.string();

    std::vector<Crop> crops = r.crops;
    if (r.crops_kind == CropsKind::tiled) {
      try {
        const InkModel& model = models.get(t.model);
        const Segment segment = open_segment(segment_dir);
        const cv::Mat mask = segment.mask ? read_mask(*segment.mask) : cv::Mat();
        const int stride = r.stride.value_or(0);
        crops = tile_crops(mask, segment.width, segment.height,
                           {static_cast<int>(model.card.width()),
                            static_cast<int>(model.card.height()), stride, stride});
        const std::size_t all = crops.size();
        crops = sample_crops(crops, r.sample.value_or(0), r.sample_seed.value_or(0));
        if (crops.empty()) {
          plan.warnings.push_back(where + "no " + std::to_string(model.card.width()) + "x" +
                                  std::to_string(model.card.height()) + " crop lies inside the " +
                                  (segment.mask ? "mask" : "image") + " of segment " + name + " (" +
                                  std::to_string(all) + " on the grid); no jobs");
        }
      } catch (const Error& e) {
        // Planned as one job that fails, so that the batch records why and goes on.
        BatchJob job = job_from(t, own.line);
        job.segment = segment_dir;
        job.key = name + "/auto/" + to_string(t.direction) + "-segment" +
                  (t.name.empty() ? "" : "-" + t.name);
        job.options["crop"] = "auto";
        job.failure = JobError{e.kind(), e.what()};
        add(std::move(job));
        continue;
      }
    }
    for (const Crop& crop : crops) {
      BatchJob job = job_from(t, own.line);
      job.segment = segment_dir;
      job.crop = crop;
      job.key = segment_job_key(name, crop, t.direction, t.name);
      job.options["crop"] = crop.text();
      job.options["segment"] = segment_dir.string();
      add(std::move(job));
    }
  }
  return plan;
}

}  // namespace inkgen
