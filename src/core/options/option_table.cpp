#include "inkgen/options/option_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

const char* to_string(JobSource source) {
  return enum_name(job_source_names, source);
}

namespace {

using nlohmann::json;

[[noreturn]] void failed(const OptionFailure& fail, const std::string& problem) {
  fail(problem);
  throw Error(ErrorKind::internal, problem);  // `fail` always throws; this keeps the contract
}

long long as_integer(const json& v, const std::string& label, long long lo, long long hi,
                     const OptionFailure& fail) {
  const std::optional<long long> value =
      v.is_string() ? parse_whole(v.get<std::string>()) : whole_of(v);
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (!value)
    failed(fail, label + " must be a whole number, got " + excerpt(v) + "; give one in " + range);
  if (*value < lo || *value > hi)
    failed(fail, label + " is " + excerpt(v) + ", out of range; give one in " + range);
  return *value;
}

double as_real(const json& v, const std::string& label, const OptionFailure& fail) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    // Strings allow what JSON numbers cannot spell ("nan", "inf"); validation rejects those.
    const std::string text = v.get<std::string>();
    if (text == "nan" || text == "inf" || text == "-inf") return std::stod(text);
    if (const auto d = parse_finite(text)) return *d;
  }
  failed(fail, label + " must be a number, got " + excerpt(v) +
                   "; give a decimal number between 1e-300 and 1e300 in size, or 0");
}

Crop as_crop(const json& v, const OptionFailure& fail) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_array() && v.size() == 4 &&
             std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number_integer(); })) {
    for (const auto& x : v)
      text += (text.empty() ? "" : ",") + x.dump();
  } else {
    failed(fail, "crop " + excerpt(v) +
                     " is neither \"x1,y1,x2,y2\" nor [x1,y1,x2,y2]; write four integers");
  }
  try {
    return parse_crop(text);
  } catch (const Error& e) {
    failed(fail, std::string("crops: ") + e.what());
  }
}

// "auto", or the list of crops as "x1,y1,x2,y2" texts.
json as_crops(const json& v, const std::string& label, const OptionFailure& fail) {
  if (v.is_string() && v == "auto") return "auto";
  json crops = json::array();
  if (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& x) {
        return x.is_string() || x.is_array();
      })) {
    if (v.size() == 1 && v[0] == "auto") return "auto";
    for (const auto& c : v) {
      if (c == "auto")
        failed(fail, label + " auto cannot be mixed with listed crops; give one or the other");
      const std::string crop = as_crop(c, fail).text();
      // The same crop twice would run twice into one output folder.
      if (std::find(crops.begin(), crops.end(), crop) != crops.end())
        failed(fail, label + " " + crop + " is given twice; give each crop once");
      crops.push_back(crop);
    }
    return crops;
  }
  if (v.is_string()) return json::array({as_crop(v, fail).text()});
  failed(fail, label +
                   " must be \"auto\" or a non-empty list of \"x1,y1,x2,y2\" or [x1,y1,x2,y2], "
                   "got " +
                   excerpt(v));
}

// An optional as run.json shows it: the value, or what stands in for it.
template <typename T>
json or_text(const std::optional<T>& v, const char* otherwise) {
  return v ? json(*v) : json(otherwise);
}
json or_text(const std::string& v, const char* otherwise) {
  return v.empty() ? json(otherwise) : json(v);
}

// Builders for the common shapes of an entry.
OptionSpec text(std::string key, std::string help,
                std::function<void(const json&, JobSettings&)> apply,
                std::function<json(const JobSettings&)> record) {
  OptionSpec o;
  o.key = std::move(key);
  o.help = std::move(help);
  o.type = OptionType::text;
  o.apply = std::move(apply);
  o.record = std::move(record);
  return o;
}

OptionSpec typed(OptionType type, std::string key, std::string help,
                 std::function<void(const json&, JobSettings&)> apply,
                 std::function<json(const JobSettings&)> record) {
  OptionSpec o = text(std::move(key), std::move(help), std::move(apply), std::move(record));
  o.type = type;
  return o;
}

std::vector<OptionSpec> make_table() {
  using S = JobSettings;
  std::vector<OptionSpec> t;
  // Where to start.
  {
    OptionSpec mode = text(
        "mode", "maximize or minimize (the single commands: their name)",
        [](const json& v, S& s) {
          const std::string x = v.get<std::string>();
          if (x != "maximize" && x != "minimize")
            throw Error(ErrorKind::usage,
                        "mode \"" + x.substr(0, 40) + "\" is neither maximize nor minimize");
          s.mode = parse_enum(direction_names, x, "mode");
        },
        [](const S& s) { return s.mode ? json(to_string(*s.mode)) : json("unset"); });
    mode.scopes = in_batch | in_jobs;
    t.push_back(mode);
  }
  {
    OptionSpec source = text(
        "source", "Start from random noise or from a real segment crop: noise or segment",
        [](const json& v, S& s) {
          s.source = parse_enum(job_source_names, v.get<std::string>(), "source");
        },
        [](const S& s) { return s.source ? json(to_string(*s.source)) : json("unset"); });
    source.names = "--from,--source";
    t.push_back(source);
  }
  {
    OptionSpec segment = text(
        "segment", "Segment directory (segment starts)",
        [](const json& v, S& s) { s.segment = v.get<std::string>(); },
        [](const S& s) { return s.segment ? json(*s.segment) : json(nullptr); });
    segment.names = "-s,--segment";
    t.push_back(segment);
  }
  {
    OptionSpec crops = typed(
        OptionType::crops, "crops",
        "x1,y1,x2,y2 crops of the segment (repeat or list), or auto: every crop of the model's "
        "size inside the mask",
        [](const json& v, S& s) {
          s.crops.clear();
          if (v == "auto") {
            s.crops_kind = CropsKind::tiled;
            return;
          }
          s.crops_kind = CropsKind::listed;
          for (const auto& c : v)
            s.crops.push_back(parse_crop(c.get<std::string>()));
        },
        [](const S& s) {
          if (!s.crops_kind) return json(nullptr);
          if (*s.crops_kind == CropsKind::tiled) return json("auto");
          json list = json::array();
          for (const auto& c : s.crops)
            list.push_back(c.text());
          return list;
        });
    crops.names = "-c,--crops,--crop";
    t.push_back(crops);
  }
  t.push_back(typed(
      OptionType::integer, "stride", "Crops auto: grid step in pixels (0: the crop size)",
      [](const json& v, S& s) {
        s.stride = v.get<int>();
        if (s.stride < 0)
          throw Error(ErrorKind::usage,
                      "stride must be at least 1 pixel, got " + std::to_string(s.stride));
      },
      [](const S& s) { return json(s.stride); }));
  t.push_back(typed(
      OptionType::integer, "sample", "Crops auto: a random K of the tiles (0: all)",
      [](const json& v, S& s) {
        s.sample = v.get<int>();
        if (s.sample < 0)
          throw Error(ErrorKind::usage,
                      "sample must be >= 0 (0: all), got " + std::to_string(s.sample));
      },
      [](const S& s) { return json(s.sample); }));
  t.push_back(typed(
      OptionType::seed, "sample-seed", "Crops auto: seed of that sample",
      [](const json& v, S& s) { s.sample_seed = v.get<std::uint64_t>(); },
      [](const S& s) { return json(s.sample_seed); }));
  t.push_back(typed(
      OptionType::integer, "count", "Noise starts (single commands: default --batch)",
      [](const json& v, S& s) {
        const int n = v.get<int>();
        if (n < 1 || n > 100000)
          throw Error(ErrorKind::usage,
                      "count must be 1..100000 noise starts, got " + std::to_string(n));
        s.count = n;
      },
      [](const S& s) { return or_text(s.count, "batch"); }));
  t.push_back(text(
      "name", "Suffix of the run's folder in a batch, and its label",
      [](const json& v, S& s) {
        const std::string n = v.get<std::string>();
        const bool ok = !n.empty() && n.size() <= 64 && n[0] != '.' &&
                        std::all_of(n.begin(), n.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                 c == '_' || c == '.';
                        });
        if (!ok) {
          throw Error(ErrorKind::usage,
                      "name \"" + n.substr(0, 70) +
                          "\" must be 1..64 of A-Z a-z 0-9 . _ - (not starting with .)");
        }
        s.name = n;
      },
      [](const S& s) { return json(s.name); }));
  // The model.
  {
    OptionSpec model = text(
        "model", "TorchScript model (.pt) (default: the bundled model)",
        [](const json& v, S& s) { s.model = v.get<std::string>(); },
        [](const S& s) { return or_text(s.model, "bundled"); });
    model.names = "-m,--model";
    t.push_back(model);
  }
  t.push_back(typed(
      OptionType::list, "input-shape", "C,D,H,W of one sample, for a model without a card",
      [](const json& v, S& s) { s.input_shape = v.get<std::string>(); },
      [](const S& s) { return or_text(s.input_shape, "card"); }));
  t.push_back(text(
      "scale", "Raw-to-input rule, e.g. min(raw16>>8,200)/255 (overrides the card)",
      [](const json& v, S& s) { s.scale = v.get<std::string>(); },
      [](const S& s) { return or_text(s.scale, "card"); }));
  t.push_back(typed(
      OptionType::list, "range", "lo,hi valid input range (overrides the card)",
      [](const json& v, S& s) { s.range = v.get<std::string>(); },
      [](const S& s) { return or_text(s.range, "card"); }));
  t.push_back(text(
      "output-kind", "logits or probability (overrides the card)",
      [](const json& v, S& s) { s.output_kind = v.get<std::string>(); },
      [](const S& s) { return or_text(s.output_kind, "card"); }));
  t.push_back(text(
      "precision", "fp32, bf16 or fp16 (fp16 on a GPU only): the model's arithmetic",
      [](const json& v, S& s) { s.precision = v.get<std::string>(); },
      [](const S& s) { return json(s.precision); }));
  t.push_back(text(
      "kernels",
      "inkgen or libtorch: who runs the operations inkgen has its own CPU kernels for (a "
      "one-channel convolution's input gradient, max pools that tile their input; `inkgen info` "
      "lists them); libtorch to compare or to rule them out",
      [](const json& v, S& s) { s.kernels = v.get<std::string>(); },
      [](const S& s) { return json(s.kernels); }));
  {
    OptionSpec freeze = typed(
        OptionType::flag, "freeze", "Run the model unfrozen (torch::jit::freeze is the default)",
        [](const json& v, S& s) { s.freeze = v.get<bool>(); },
        [](const S& s) { return json(s.freeze); });
    freeze.negated_flag = true;
    t.push_back(freeze);
  }
  t.push_back(typed(
      OptionType::integer, "z0", "First layer (default: the card's z0, else the centred window)",
      [](const json& v, S& s) {
        s.z0 = v.get<int>();
        // Layer files carry at most 6 digits (segment.cpp), so no larger z0 names a layer.
        if (*s.z0 < 0 || *s.z0 > 999999)
          throw Error(ErrorKind::usage, "--z0 is " + std::to_string(*s.z0) +
                                            ", outside 0..999999; give the first layer to read");
      },
      [](const S& s) { return or_text(s.z0, "card"); }));
  t.push_back(typed(
      OptionType::flag, "reverse-layers",
      "Read the segment's layers in reverse order (layer z is file N-1-z; --z0 counts in that "
      "order), for segments whose layers run from verso to recto",
      [](const json& v, S& s) { s.reverse_layers = v.get<bool>(); },
      [](const S& s) { return json(s.reverse_layers); }));
  t.push_back(typed(
      OptionType::integer, "level",
      "Zarr input: the OME-Zarr multiscale level to read (0: full resolution)",
      [](const json& v, S& s) {
        s.level = v.get<int>();
        if (s.level < 0 || s.level > 30)
          throw Error(ErrorKind::usage, "--level is " + std::to_string(s.level) +
                                            ", outside 0..30; give a multiscale level (0: full "
                                            "resolution)");
      },
      [](const S& s) { return json(s.level); }));
  t.push_back(typed(
      OptionType::integer, "depth-check",
      "Segment starts: also score each crop with its layers reversed and shuffled K times "
      "(run.json's depth_check; 0: off)",
      [](const json& v, S& s) {
        s.depth_check = v.get<int>();
        if (s.depth_check < 0 || s.depth_check > max_depth_shuffles)
          throw Error(ErrorKind::usage, "--depth-check is " + std::to_string(s.depth_check) +
                                            ", outside 0.." + std::to_string(max_depth_shuffles) +
                                            "; give the number of shuffles (5 is plenty)");
      },
      [](const S& s) { return json(s.depth_check); }));
  // The optimization.
  t.push_back(text(
      "recipe",
      "The defaults of the options below: minimal (a minimal change along the blurred gradient, "
      "stopped at the target probability: shows what the model reads) or classic (200 Adam "
      "steps of the mean logit)",
      [](const json& v, S& s) {
        s.recipe = parse_enum(recipe_names, v.get<std::string>(), "--recipe");
      },
      [](const S& s) { return json(enum_name(recipe_names, s.recipe)); }));
  t.push_back(typed(
      OptionType::integer, "steps", "Optimization steps",
      [](const json& v, S& s) { s.optimize.steps = v.get<int>(); },
      [](const S& s) { return json(s.optimize.steps); }));
  t.push_back(typed(
      OptionType::real, "lr",
      "Learning rate (default: ngd 3e-4, the RMS change of a voxel per step; adam 0.01, sgd 1, "
      "seed 1e4)",
      [](const json& v, S& s) { s.lr = v.get<double>(); },
      [](const S& s) { return json(s.optimize.rule.lr); }));
  t.push_back(text(
      "optimizer",
      "ngd (normalized gradient steps), adam, sgd, or seed (the research script's decayed steps)",
      [](const json& v, S& s) {
        s.optimize.rule.kind = parse_optimizer_kind(v.get<std::string>());
      },
      [](const S& s) { return json(to_string(s.optimize.rule.kind)); }));
  t.push_back(typed(
      OptionType::real, "decay", "Seed optimizer: x <- (x - lr*grad) * (1 - decay)",
      [](const json& v, S& s) { s.optimize.rule.decay = v.get<double>(); },
      [](const S& s) { return json(s.optimize.rule.decay); }));
  t.push_back(typed(
      OptionType::seed, "seed",
      "Random seed (noise, jitter): same seed, same result on the same device",
      [](const json& v, S& s) { s.optimize.seed = v.get<std::uint64_t>(); },
      [](const S& s) { return json(s.optimize.seed); }));
  t.push_back(text(
      "noise",
      "uniform, gaussian, smooth (low-pass), sheet (the card's mean depth profile plus small "
      "noise) or auto (sheet when the card has a profile, else uniform)",
      [](const json& v, S& s) { s.noise = parse_noise_kind(v.get<std::string>()); },
      [](const S& s) { return json(to_string(s.noise)); }));
  t.push_back(typed(
      OptionType::list, "noise-range",
      "lo,hi of the noise (default: the card's valid range; sheet: around the profile, +- the "
      "card's smallest profile_sd, else -0.05,0.05)",
      [](const json& v, S& s) { s.noise_range = v.get<std::string>(); },
      [](const S& s) { return or_text(s.noise_range, "card"); }));
  {
    OptionSpec clamp = typed(
        OptionType::flag, "clamp", "Do not keep values inside the card's valid range",
        [](const json& v, S& s) { s.optimize.clamp = v.get<bool>(); },
        [](const S& s) { return json(s.optimize.clamp); });
    clamp.negated_flag = true;
    t.push_back(clamp);
  }
  t.push_back(typed(
      OptionType::real, "l2", "Weight of an L2 pull towards the start",
      [](const json& v, S& s) { s.optimize.regularizers.l2 = v.get<double>(); },
      [](const S& s) { return json(s.optimize.regularizers.l2); }));
  t.push_back(typed(
      OptionType::real, "tv", "Weight of 3D total variation",
      [](const json& v, S& s) { s.optimize.regularizers.tv = v.get<double>(); },
      [](const S& s) { return json(s.optimize.regularizers.tv); }));
  t.push_back(typed(
      OptionType::integer, "jitter",
      "Shift the volume by up to J voxels in x/y before each forward",
      [](const json& v, S& s) { s.optimize.regularizers.jitter = v.get<int>(); },
      [](const S& s) { return json(s.optimize.regularizers.jitter); }));
  t.push_back(typed(
      OptionType::integer, "blur-every", "Blur the volume every K steps (0: never)",
      [](const json& v, S& s) { s.optimize.regularizers.blur_every = v.get<int>(); },
      [](const S& s) { return json(s.optimize.regularizers.blur_every); }));
  t.push_back(typed(
      OptionType::real, "blur-sigma", "Sigma of that blur, in voxels",
      [](const json& v, S& s) { s.optimize.regularizers.blur_sigma = v.get<double>(); },
      [](const S& s) { return json(s.optimize.regularizers.blur_sigma); }));
  t.push_back(typed(
      OptionType::integer, "report-every", "Read the score back and report every K steps",
      [](const json& v, S& s) { s.optimize.report_every = v.get<int>(); },
      [](const S& s) { return json(s.optimize.report_every); }));
  t.push_back(typed(
      OptionType::integer, "save-every", "Save snapshot slices every K steps (0: never)",
      [](const json& v, S& s) { s.optimize.save_every = v.get<int>(); },
      [](const S& s) { return json(s.optimize.save_every); }));
  t.push_back(typed(
      OptionType::objective, "objective",
      "What a step moves: the mean ink logit (logit), every output cell's cross-entropy against "
      "the wanted label (bce), or a hidden layer of a model with a features method "
      "(channel:LAYER:K, neuron:LAYER:K[:t,y,x], direction:LAYER:FILE), or a weighted sum, e.g. "
      "\"channel:down2:3 - 0.5*logit\"",
      [](const json& v, S& s) {
        s.optimize.objective = parse_objective_spec(v.get<std::string>());
      },
      [](const S& s) { return json(s.optimize.objective.text()); }));
  // Channel atlases. A batch or JOBS line with "layer" is an atlas: one job per channel.
  const auto atlas_option = [](OptionSpec o) {
    o.scopes = in_atlas | in_batch | in_jobs;
    return o;
  };
  t.push_back(atlas_option(text(
      "layer", "Atlas: the hidden layer whose channels are maximized (inkgen info lists them)",
      [](const json& v, S& s) {
        const std::string l = v.get<std::string>();
        if (l.empty() || l.size() > 200 || l.find_first_of(":/\\ \t\n\r") != std::string::npos) {
          throw Error(ErrorKind::usage,
                      "layer '" + excerpt(l) + "' is not a layer name; `inkgen info` lists them");
        }
        s.layer = l;
      },
      [](const S& s) { return s.layer.empty() ? json(nullptr) : json(s.layer); })));
  t.push_back(atlas_option(text(
      "channels", "Atlas: all, or channels and ranges such as 0-7,12",
      [](const json& v, S& s) { s.channels = v.get<std::string>(); },
      [](const S& s) { return s.layer.empty() ? json(nullptr) : json(s.channels); })));
  t.push_back(text(
      "param", "Optimize the voxels (pixel) or the 3D Fourier coefficients (fourier)",
      [](const json& v, S& s) { s.optimize.param = parse_param_kind(v.get<std::string>()); },
      [](const S& s) { return json(to_string(s.optimize.param)); }));
  t.push_back(typed(
      OptionType::real, "fourier-decay", "Fourier coefficients are scaled by 1/max(f,1/N)^decay",
      [](const json& v, S& s) { s.optimize.fourier_decay = v.get<double>(); },
      [](const S& s) { return json(s.optimize.fourier_decay); }));
  t.push_back(text(
      "robust",
      "Random 3D shifts, scalings, rotations and padding before each forward: off, light or "
      "strong",
      [](const json& v, S& s) {
        s.optimize.regularizers.robust = parse_robustness(v.get<std::string>());
      },
      [](const S& s) { return json(to_string(s.optimize.regularizers.robust)); }));
  t.push_back(typed(
      OptionType::real, "diversity", "Weight of a term pushing the starts of a batch apart",
      [](const json& v, S& s) { s.optimize.regularizers.diversity = v.get<double>(); },
      [](const S& s) { return json(s.optimize.regularizers.diversity); }));
  t.push_back(typed(
      OptionType::real_or_off, "stop-at",
      "A start stops once its ink probability is at least P (maximize) or at most P (minimize); "
      "off: run every step (recipe minimal: 0.9 for maximize, 0.1 for minimize)",
      [](const json& v, S& s) {
        s.optimize.stop_at = v == "off" ? std::nullopt : std::optional<double>(v.get<double>());
      },
      [](const S& s) { return s.optimize.stop_at ? json(*s.optimize.stop_at) : json("off"); }));
  t.push_back(typed(
      OptionType::real, "grad-blur",
      "Sigma in voxels of a 3D Gaussian blur of each step's gradient (0: none)",
      [](const json& v, S& s) { s.optimize.grad_blur = v.get<double>(); },
      [](const S& s) { return json(s.optimize.grad_blur); }));
  t.push_back(text(
      "change-sign",
      "Which way voxels may move from the start: both, up (denser only), down (lighter only) or "
      "auto (both one-way changes at once; each start keeps the one that reaches --stop-at "
      "first; recipe minimal; noise starts other than sheet change both ways)",
      [](const json& v, S& s) { s.optimize.change_sign = parse_change_sign(v.get<std::string>()); },
      [](const S& s) { return json(to_string(s.optimize.change_sign)); }));
  t.push_back(typed(
      OptionType::real, "grad-threshold",
      "Shrink each step's gradient by this fraction of its largest value and drop what is below "
      "(0: none; recipe minimal: 0.05): the change goes where the model is most sensitive",
      [](const json& v, S& s) { s.optimize.grad_threshold = v.get<double>(); },
      [](const S& s) { return json(s.optimize.grad_threshold); }));
  {
    OptionSpec split = typed(
        OptionType::flag, "split-batch",
        "Run each step's batch through the model whole, every operation over all threads (the "
        "default on a CPU with several threads: one part of the batch per thread, side by side)",
        [](const json& v, S& s) { s.optimize.split_batch = v.get<bool>(); },
        [](const S& s) { return json(s.optimize.split_batch); });
    split.negated_flag = true;
    t.push_back(split);
  }

  {
    OptionSpec batch = typed(
        OptionType::integer, "batch",
        "Starts optimized together in one tensor (noise: how many starts; batch: jobs of one "
        "segment with the same model and options)",
        [](const json& v, S& s) {
          s.batch = v.get<int>();
          if (s.batch < 1)
            throw Error(ErrorKind::usage,
                        "--batch must be at least 1, got " + std::to_string(s.batch));
        },
        [](const S& s) { return json(s.batch); });
    batch.scopes = in_single | in_batch;
    t.push_back(batch);
  }
  // inkgen attribute: which voxels make the model say ink.
  const auto attribution_only = [](OptionSpec o) {
    o.scopes = in_attribute;
    return o;
  };
  t.push_back(attribution_only(text(
      "method",
      "Attribution: map-depth (the model's ink map at the depth its gradient points to), cells "
      "(each output cell's logit weighted by its ink probability), gradient (of the mean logit), "
      "smoothgrad (mean gradient over noisy copies) or ig (integrated gradients from the crop "
      "blurred in x,y)",
      [](const json& v, S& s) {
        s.attribution.method = parse_attribution_method(v.get<std::string>());
      },
      [](const S& s) { return json(to_string(s.attribution.method)); })));
  t.push_back(attribution_only(typed(
      OptionType::integer, "samples", "Attribution: smoothgrad's noisy copies, ig's path steps",
      [](const json& v, S& s) {
        const int n = v.get<int>();
        if (n < 1 || n > AttributionOptions::max_samples)
          throw Error(ErrorKind::usage, "--samples must be 1.." +
                                            std::to_string(AttributionOptions::max_samples) +
                                            ", got " + std::to_string(n));
        s.attribution.samples = n;
      },
      [](const S& s) { return json(s.attribution.samples); })));
  t.push_back(attribution_only(typed(
      OptionType::real, "noise-sd",
      "Attribution, smoothgrad: sd of the noise on the model's input scale (default: 0.05 of the "
      "card's valid range)",
      [](const json& v, S& s) {
        const double sd = v.get<double>();
        // The same bound as --range's ends: beyond it noise only turns the model's input to
        // overflow.
        if (!std::isfinite(sd) || sd <= 0 || sd > 1e9)
          throw Error(ErrorKind::usage,
                      "--noise-sd must be a positive number up to 1e9, got " + excerpt(v));
        s.attribution.noise_sd = sd;
      },
      [](const S& s) {
        return s.attribution.noise_sd ? json(*s.attribution.noise_sd) : json("0.05*range");
      })));
  t.push_back(attribution_only(typed(
      OptionType::real, "smooth",
      "Attribution: sigma in voxels of a 3D Gaussian blur of the map (0: off)",
      [](const json& v, S& s) {
        const double sigma = v.get<double>();
        if (!std::isfinite(sigma) || sigma < 0 || sigma > 100)
          throw Error(ErrorKind::usage,
                      "--smooth must be a sigma of 0..100 voxels (0: off), got " + excerpt(v));
        s.attribution.smooth = sigma;
      },
      [](const S& s) { return json(s.attribution.smooth); })));
  t.push_back(attribution_only(typed(
      OptionType::real, "threshold",
      "Attribution: zero what is below this fraction of the crop's max |A| and shrink the rest "
      "by it (0: off)",
      [](const json& v, S& s) {
        const double f = v.get<double>();
        if (!std::isfinite(f) || f < 0 || f >= 1)
          throw Error(
              ErrorKind::usage,
              "--threshold must be a fraction in [0, 1) of max |A| (0: off), got " + excerpt(v));
        s.attribution.threshold = f;
      },
      [](const S& s) { return json(s.attribution.threshold); })));
  t.push_back(attribution_only(text(
      "keep-sign", "Attribution: dominant (only the sign holding more of the map's mass) or both",
      [](const json& v, S& s) {
        const auto k = v.get<std::string>();
        if (k != "dominant" && k != "both")
          throw Error(ErrorKind::usage, "--keep-sign must be dominant or both, got " + excerpt(v));
        s.attribution.dominant_sign = k == "dominant";
      },
      [](const S& s) { return json(s.attribution.dominant_sign ? "dominant" : "both"); })));
  // The options attribute shares with the optimization commands.
  for (auto& o : t) {
    for (const char* key :
         {"segment", "crops", "z0", "reverse-layers", "level", "model", "input-shape", "scale",
          "range", "output-kind", "precision", "freeze", "kernels", "seed", "name", "batch"})
      if (o.key == key) o.scopes |= in_attribute;
  }
  return t;
}

}  // namespace

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec* find_option(const std::string& raw) {
  std::string key = raw;
  std::replace(key.begin(), key.end(), '_', '-');
  if (key == "from") key = "source";
  if (key == "crop") key = "crops";
  for (const auto& o : option_table())
    if (o.key == key || (o.negated_flag && key == "no-" + o.key)) return &o;
  return nullptr;
}

const std::vector<std::string>& job_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& o : option_table()) {
      if (!(o.scopes & in_jobs)) continue;
      k.push_back(o.key);
      if (o.negated_flag) k.push_back("no-" + o.key);
    }
    return k;
  }();
  return keys;
}

json check_option_value(const OptionSpec& option, const json& v, const std::string& label,
                        const OptionFailure& fail) {
  switch (option.type) {
    case OptionType::text:
      if (v.is_string()) return v;
      failed(fail, label + " must be a string, got " + excerpt(v));
    case OptionType::list:
      if (v.is_string()) return v;
      if (v.is_array() && !v.empty() &&
          std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number(); })) {
        std::string text;
        for (const auto& x : v)
          text += (text.empty() ? "" : ",") + x.dump();
        return text;
      }
      failed(fail,
             label + " must be a string like \"0.2,0.6\" or a list of numbers, got " + excerpt(v));
    case OptionType::integer:
      return as_integer(v, label, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(),
                        fail);
    case OptionType::real:
      return as_real(v, label, fail);
    case OptionType::real_or_off:
      if (v == "off") return v;
      return as_real(v, label, fail);
    case OptionType::seed:
      return static_cast<std::uint64_t>(
          as_integer(v, label, 0, std::numeric_limits<long long>::max(), fail));
    case OptionType::flag:
      if (v.is_boolean()) return v;
      if (v.is_string() && (v == "true" || v == "false")) return v == "true";
      failed(fail, label + " must be true or false, got " + excerpt(v));
    case OptionType::crops:
      return as_crops(v, label, fail);
    case OptionType::objective:
      try {
        return objective_text_of(v);
      } catch (const Error& e) {
        failed(fail, e.what());
      }
  }
  failed(fail, label + " has a type inkgen does not know");
}

std::array<double, 2> parse_lo_hi(const std::string& text, const std::string& option) {
  // Values on a model's input scale: a card's range is bounded alike (model_card.cpp), and
  // hi - lo must stay a finite number for every scale computed from it.
  constexpr double bound = 1e9;
  const auto comma = text.find(',');
  const auto lo = comma == std::string::npos ? std::nullopt : parse_finite(text.substr(0, comma));
  const auto hi = comma == std::string::npos ? std::nullopt : parse_finite(text.substr(comma + 1));
  if (!lo || !hi || !(*lo < *hi) || std::abs(*lo) > bound || std::abs(*hi) > bound) {
    throw Error(ErrorKind::usage, option + " '" + excerpt(text, 40) +
                                      "' is not lo,hi with lo < hi, both within +-1e9; e.g. " +
                                      option + " 0.2,0.6");
  }
  return {*lo, *hi};
}

const std::vector<std::string>& model_option_keys() {
  static const std::vector<std::string> keys{"model",       "input-shape", "scale",  "range",
                                             "output-kind", "precision",   "freeze", "kernels"};
  return keys;
}

JobRequest merge_requests(JobRequest line, const JobRequest& defaults) {
  for (const auto& [key, value] : defaults.values)
    line.values.emplace(key, value);  // emplace keeps the line's own value
  return line;
}

JobSettings resolve_settings(const JobRequest& request) {
  JobSettings s;
  const auto apply = [&](const OptionSpec& o) {
    const auto it = request.values.find(o.key);
    if (it != request.values.end()) o.apply(it->second, s);
  };
  // The recipe first, with the mode its targets depend on; then what was given one by one.
  apply(*find_option("recipe"));
  apply(*find_option("mode"));
  apply(*find_option("layer"));
  if (!s.layer.empty()) {
    // An atlas maximizes channel K of the layer in run K; the objective names channel 0 and each
    // run reads its own (OptimizeOptions::row_channels).
    if (request.values.count("objective")) {
      throw Error(ErrorKind::usage,
                  "an atlas maximizes each channel of its layer in turn; drop "
                  "the objective (--objective) or the layer (--layer)");
    }
    if (s.mode && *s.mode != Direction::maximize) {
      throw Error(ErrorKind::usage,
                  "an atlas maximizes each channel of its layer; drop mode minimize or the layer");
    }
    s.mode = Direction::maximize;
  }
  apply_recipe(s.recipe, s.mode.value_or(Direction::maximize), s.optimize, s.noise);
  for (const auto& o : option_table())
    if (o.key != "recipe" && o.key != "mode" && o.key != "layer") apply(o);
  if (!s.layer.empty()) s.optimize.objective = parse_objective_spec("channel:" + s.layer + ":0");
  s.optimize.rule.lr = s.lr.value_or(default_learning_rate(s.optimize.rule.kind));
  if (s.mode) s.optimize.direction = *s.mode;
  if (s.optimize.objective.reads_layers()) {
    // The recipe's target and its choice between two ways read the ink probability, which a
    // hidden-layer objective does not aim at: such a run goes its steps, both ways.
    if (!request.values.count("stop-at")) s.optimize.stop_at.reset();
    if (s.optimize.change_sign == ChangeSign::auto_) {
      if (request.values.count("change-sign")) {
        throw Error(ErrorKind::usage,
                    "--change-sign auto keeps the way that reaches the ink target first, and a "
                    "hidden-layer --objective has no such target; give up, down or both");
      }
      s.optimize.change_sign = ChangeSign::both;
    }
  }
  // A noise start may become anything in range; a real crop should stay itself where unchanged.
  const bool from_segment = s.source ? *s.source == JobSource::segment : s.segment.has_value();
  s.optimize.fourier_range =
      from_segment ? FourierRange::clamp_around_start : FourierRange::sigmoid;
  return s;
}

json record_settings(const JobSettings& settings, unsigned scope) {
  json j = json::object();
  for (const auto& o : option_table()) {
    if (!(o.scopes & scope) || !o.record) continue;
    std::string name = o.key;
    std::replace(name.begin(), name.end(), '-', '_');
    json value = o.record(settings);
    // Not an atlas: its keys stay out of the record (and of older jobs' fingerprints).
    if ((o.scopes & in_atlas) && value.is_null()) continue;
    j[name] = std::move(value);
  }
  return j;
}

}  // namespace inkgen
