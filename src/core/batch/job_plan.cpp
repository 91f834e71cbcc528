#include "inkgen/batch/job_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/evaluate/atlas.hpp"
#include "inkgen/evaluate/depth_check.hpp"
#include "inkgen/io/crop_tiling.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/run/run_record.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad(const std::string& message) {
  throw Error(ErrorKind::usage, message);
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

}  // namespace

LoadOptions model_load_options(const JobSettings& s) {
  LoadOptions load;
  if (!s.input_shape.empty()) load.overrides.input_shape = parse_input_shape(s.input_shape);
  if (!s.scale.empty()) load.overrides.scale = parse_value_scale(s.scale).text();
  if (!s.range.empty()) load.overrides.range = parse_lo_hi(s.range, "--range");
  if (!s.output_kind.empty()) load.overrides.output_kind = parse_output_kind(s.output_kind);
  load.precision = parse_precision(s.precision);
  load.freeze = s.freeze ? Freeze::yes : Freeze::no;
  load.kernels = parse_kernels(s.kernels);
  return load;
}

JobTemplate plan_template(const JobRequest& r, const JobRequest& own, const fs::path& base,
                          bool from_file) {
  JobTemplate t;
  t.settings = resolve_settings(r);
  const JobSettings& s = t.settings;
  if (!s.mode) bad("no mode; add \"mode\": \"maximize\" or \"minimize\" (or give --mode)");
  t.direction = *s.mode;
  t.source = s.source.value_or(s.segment ? JobSource::segment : JobSource::noise);

  if (t.source == JobSource::segment) {
    if (!s.segment) bad("a segment job needs \"segment\": DIR (--segment DIR)");
    if (!s.crops_kind)
      bad("a segment job needs \"crops\": \"auto\" or a list of crops (or give --crops)");
  } else {
    if (s.segment || s.crops_kind)
      bad("\"segment\" and \"crops\" belong to segment jobs; drop them or set \"source\": "
          "\"segment\"");
  }
  if (s.crops_kind != CropsKind::tiled &&
      (own.has("stride") || own.has("sample") || own.has("sample-seed")))
    bad("\"stride\", \"sample\" and \"sample-seed\" belong to \"crops\": \"auto\"");
  if (r.has("stride") && s.stride < 1)
    bad("stride must be at least 1 pixel, got " + std::to_string(s.stride));
  if (t.source == JobSource::segment && own.has("count"))
    bad("\"count\" (noise starts) belongs to noise jobs");
  t.name = s.name;

  t.model_as_written = s.model;
  t.model.path = !s.model.empty()
                     ? (own.has("model") && from_file ? resolve(s.model, base) : fs::path(s.model))
                     : bundled_model_path();
  const LoadOptions load = model_load_options(s);
  const auto& o = t.model.overrides = load.overrides;
  t.model.precision = load.precision;
  t.model.freeze = load.freeze;
  t.model.kernels = load.kernels;
  t.model.key = t.model.path.string() + "|" + s.input_shape + "|" + o.scale.value_or("") + "|" +
                s.range + "|" + s.output_kind + "|" + to_string(t.model.precision) + "|" +
                (t.model.freeze == Freeze::yes ? "frozen" : "unfrozen") + "|" +
                to_string(t.model.kernels);

  t.optimize = s.optimize;  // resolve_settings gave it the mode's direction
  check_options(t.optimize);
  t.z0 = s.z0;
  t.noise.kind = s.noise;
  if (!s.noise_range.empty()) t.noise.range = parse_lo_hi(s.noise_range, "--noise-range");
  t.options = record_settings(s, in_jobs);
  t.options["source"] = to_string(t.source);
  t.options["mode"] = to_string(t.direction);
  return t;
}

namespace {

BatchJob job_from(const JobTemplate& t, int line) {
  BatchJob job;
  job.line = line;
  job.direction = t.direction;
  job.source = t.source;
  job.model = t.model;
  job.optimize = t.optimize;
  job.noise = t.noise;
  job.z0 = t.z0;
  job.layer_order = layer_order(t.settings);
  job.level = t.settings.level;
  job.depth_check = t.settings.depth_check;
  job.options = t.options;
  job.options["jobs_line"] = line;
  // Jobs that differ only in what they start from may share a device batch.
  nlohmann::json shared = t.options;
  shared.erase("name");
  job.group = t.model.key + "|" + json_text(shared);
  return job;
}

void finish_job(BatchJob& job) {
  nlohmann::json shaping = job.options;
  // What decides which jobs exist, or only how they report, is not part of a job's result.
  // The depth check adds scores of the start to run.json but changes nothing optimized.
  for (const char* k : {"jobs_line", "report_every", "save_every", "segment", "count", "stride",
                        "sample", "sample_seed", "depth_check", "channels"})
    shaping.erase(k);
  job.fingerprint = digest(json_text(shaping));
}

}  // namespace

std::vector<Crop> auto_crops(const Segment& segment, const ModelCard& card,
                             const JobSettings& settings, std::size_t* all) {
  const cv::Mat mask = segment_mask(segment);
  const int stride = settings.stride;
  const std::vector<Crop> tiles =
      tile_crops(mask, segment.width, segment.height,
                 {static_cast<int>(card.width()), static_cast<int>(card.height()), stride, stride});
  if (all) *all = tiles.size();
  return sample_crops(tiles, settings.sample, settings.sample_seed);
}

std::vector<StartVolume> segment_starts(const InkModel& model, const JobSettings& s) {
  const ModelCard& card = model.card;
  const Segment segment = open_segment(*s.segment, layer_order(s), s.level);
  const int z0 = s.z0.value_or(card.default_z0(segment.layer_count()));
  std::size_t all = 0;
  const std::vector<Crop> crops =
      s.crops_kind == CropsKind::tiled ? auto_crops(segment, card, s, &all) : s.crops;
  if (crops.empty()) {
    throw Error(ErrorKind::input,
                "no " + std::to_string(card.width()) + "x" + std::to_string(card.height()) +
                    " crop lies inside the mask of " + *s.segment + " (" + std::to_string(all) +
                    " on the grid); give crops with --crop x1,y1,x2,y2");
  }
  std::vector<StartVolume> starts;
  for (const auto& crop : crops) {
    starts.push_back(segment_start(card, segment, crop, z0));
    attach_depth_check(model, segment, starts.back(), s.depth_check, s.optimize.seed);
  }
  return starts;
}

std::string segment_start_key(const std::string& segment_name, const Crop& crop) {
  return segment_name + "/" + std::to_string(crop.x1) + "_" + std::to_string(crop.y1) + "_" +
         std::to_string(crop.x2) + "_" + std::to_string(crop.y2);
}

std::string noise_start_key(std::uint64_t seed, int index) {
  return "noise/seed-" + std::to_string(seed) + "-" + std::to_string(index);
}

namespace {

std::string with_name(std::string folder, const std::string& name) {
  return name.empty() ? folder : folder + "-" + name;
}

}  // namespace

std::string atlas_folder_key(const std::string& start_key, const std::string& layer,
                             const std::string& name) {
  return start_key + "/" + with_name("atlas-" + layer, name);
}

JobPlan plan_jobs(const std::vector<JobRequest>& lines, const JobRequest& defaults,
                  const PlanContext& context, ModelCache& models) {
  // A bad default is the command line's fault: say so before blaming every line for it.
  {
    JobRequest probe = defaults;
    probe.values.emplace("mode", "maximize");
    probe.values["source"] = "noise";
    for (const char* key : {"segment", "crops", "count"})
      probe.values.erase(key);
    plan_template(probe, JobRequest{}, {}, false);
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
    if (line.has("segment"))
      line.values["segment"] =
          resolve(line.values["segment"].get<std::string>(), context.base_dir).string();
    const JobRequest r = merge_requests(line, defaults);
    JobTemplate t;
    try {
      t = plan_template(r, own, context.base_dir, true);
    } catch (const Error& e) {
      throw Error(ErrorKind::input, where + e.what());
    }
    const bool atlas = !t.settings.layer.empty();
    // A job that fails when it runs, so that the batch records why (an unreadable model or
    // segment) and goes on with the other lines.
    const auto add_failing = [&](const std::string& key, const Error& e) {
      BatchJob job = job_from(t, own.line);
      job.key = key;
      job.failure = JobError{e.kind(), e.what()};
      if (t.source == JobSource::segment) {
        job.segment = *t.settings.segment;
        job.options["crops"] = "auto";
      }
      add(std::move(job));
    };
    // An atlas line's channels, from the model's layer; a model that cannot be read fails the
    // line's jobs, a layer or channel it lacks is the line's error.
    std::vector<std::int64_t> channels;
    if (atlas) {
      const InkModel* model = nullptr;
      try {
        model = &models.get(t.model);
      } catch (const Error& e) {
        const std::string start = t.source == JobSource::noise
                                      ? "noise/seed-" + std::to_string(t.optimize.seed)
                                      : segment_name(*t.settings.segment);
        add_failing(atlas_folder_key(start, t.settings.layer, t.name), e);
        continue;
      }
      try {
        channels = atlas_channels(*model, t.settings.layer, t.settings.channels);
      } catch (const Error& e) {
        throw Error(ErrorKind::input, where + e.what());
      }
    }
    // The jobs of one start: one, or one per channel of an atlas.
    const auto add_start = [&](BatchJob job, const std::string& start_key,
                               const std::string& leaf) {
      if (!atlas) {
        job.key = start_key + "/" + with_name(leaf, t.name);
        add(std::move(job));
        return;
      }
      const std::string folder = atlas_folder_key(start_key, t.settings.layer, t.name);
      for (const auto k : channels) {
        BatchJob tile = job;
        tile.atlas = folder;
        tile.channel = k;
        tile.key = folder + "/channel-" + std::to_string(k);
        tile.optimize.row_channels = {k};
        tile.options["objective"] = with_channel(t.optimize.objective, k).text();
        add(std::move(tile));
      }
    };

    if (t.source == JobSource::noise) {
      const int count = t.settings.count.value_or(1);
      for (int i = 0; i < count; ++i) {
        BatchJob job = job_from(t, own.line);
        job.noise_index = i;
        job.options["noise_index"] = i;
        add_start(std::move(job), noise_start_key(t.optimize.seed, i),
                  std::string(to_string(t.direction)) + "-noise");
      }
      continue;
    }

    const fs::path segment_dir = *t.settings.segment;
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

    std::vector<Crop> crops = t.settings.crops;
    if (t.settings.crops_kind == CropsKind::tiled) {
      try {
        const InkModel& model = models.get(t.model);
        const Segment segment = open_segment(segment_dir, LayerOrder::as_stored, t.settings.level);
        std::size_t all = 0;
        crops = auto_crops(segment, model.card, t.settings, &all);
        if (t.settings.sample > 0 && all > 0 && all < static_cast<std::size_t>(t.settings.sample)) {
          plan.warnings.push_back(where + "segment " + name + " has " + std::to_string(all) +
                                  " crops inside its " + (segment.mask ? "mask" : "image") +
                                  ", fewer than sample " + std::to_string(t.settings.sample) +
                                  ": all " + std::to_string(all) + " taken");
        }
        if (crops.empty()) {
          plan.warnings.push_back(where + "no " + std::to_string(model.card.width()) + "x" +
                                  std::to_string(model.card.height()) + " crop lies inside the " +
                                  (segment.mask ? "mask" : "image") + " of segment " + name + " (" +
                                  std::to_string(all) + " on the grid); no jobs");
        }
      } catch (const Error& e) {
        add_failing(atlas ? atlas_folder_key(name + "/auto", t.settings.layer, t.name)
                          : name + "/auto/" +
                                with_name(std::string(to_string(t.direction)) + "-segment", t.name),
                    e);
        continue;
      }
    }
    for (const Crop& crop : crops) {
      BatchJob job = job_from(t, own.line);
      job.segment = segment_dir;
      job.crop = crop;
      job.options["crops"] = nlohmann::json::array({crop.text()});
      job.options["segment"] = segment_dir.string();
      add_start(std::move(job), segment_start_key(name, crop),
                std::string(to_string(t.direction)) + "-segment");
    }
  }
  // Every line tiled an empty mask: a batch that would run "0/0 jobs" and exit 0 is a bad input.
  if (plan.jobs.empty()) {
    throw Error(ErrorKind::input,
                context.origin + " plans no jobs (" +
                    (plan.warnings.empty() ? std::string("no line made one")
                                           : excerpt(plan.warnings.front(), 200)) +
                    "); give crops with \"crops\": [\"x1,y1,x2,y2\"] or segments whose mask "
                    "covers papyrus");
  }
  return plan;
}

}  // namespace inkgen
