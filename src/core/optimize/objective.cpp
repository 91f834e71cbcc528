#include "inkgen/optimize/objective.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/model/ink_score.hpp"

namespace inkgen {

namespace {

const at::Tensor& layer_of(const std::vector<std::pair<std::string, at::Tensor>>& layers,
                           const std::string& name) {
  for (const auto& [n, t] : layers)
    if (n == name) return t;
  throw Error(ErrorKind::internal, "layer '" + name + "' missing from the model's features");
}

const std::vector<std::int64_t>* shape_of(const InkModel& model, const std::string& name) {
  for (const auto& [n, shape] : model.layers)
    if (n == name) return &shape;
  return nullptr;
}

// A .npy header's value of `key` ("'descr': '<f4'" -> "<f4").
std::string npy_field(const std::string& header, const std::string& key) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  auto v = header.find(':', k);
  if (v == std::string::npos) return "";
  ++v;
  while (v < header.size() && header[v] == ' ')
    ++v;
  const char open = header[v];
  const char close = open == '(' ? ')' : open;
  const auto end = header.find(close, v + 1);
  return end == std::string::npos ? "" : header.substr(v + 1, end - v - 1);
}

std::vector<double> read_npy(const std::filesystem::path& path) {
  const std::string bytes = read_text(path);
  const auto fail = [&](const std::string& why) -> std::vector<double> {
    throw Error(ErrorKind::input, "direction file '" + path.string() + "' " + why +
                                      "; save a 1-D float32 or float64 array with numpy.save");
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return fail("is not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_size) return fail("is cut short");
  std::size_t header_len = 0;
  for (std::size_t i = 0; i < len_size; ++i)
    header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const std::size_t data = 8 + len_size + header_len;
  if (data > bytes.size()) return fail("is cut short");
  const std::string header = bytes.substr(8 + len_size, header_len);
  const std::string descr = npy_field(header, "descr");
  const std::string shape = npy_field(header, "shape");
  if (header.find("'fortran_order': True") != std::string::npos) return fail("is Fortran-ordered");
  std::size_t count = 0;
  try {
    std::size_t used = 0;
    count = std::stoul(shape, &used);
    if (shape.find(',', used) != std::string::npos &&
        shape.find_first_not_of(", ", shape.find(',', used)) != std::string::npos)
      return fail("holds an array of shape (" + shape + "), not a vector");
  } catch (const std::exception&) {
    return fail("has no 1-D shape");
  }
  const std::size_t size = descr == "<f4" ? 4 : descr == "<f8" ? 8 : 0;
  if (size == 0) return fail("holds '" + descr + "' values");
  if (bytes.size() - data < count * size) return fail("is cut short");
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (size == 4) {
      float f;
      std::memcpy(&f, bytes.data() + data + 4 * i, 4);
      out[i] = f;
    } else {
      std::memcpy(&out[i], bytes.data() + data + 8 * i, 8);
    }
  }
  return out;
}

std::string channels_text(const InkModel& model) {
  std::string out;
  for (const auto& [name, shape] : model.layers)
    out += (out.empty() ? "" : ", ") + name + " (" + std::to_string(shape[0]) + " channels)";
  return out;
}

}  // namespace

at::Tensor sample_loss(const at::Tensor& cell_logits, Objective objective, Direction direction) {
  const bool up = direction == Direction::maximize;
  if (objective == Objective::logit) {
    const auto mean = cell_logits.mean(1);
    return up ? -mean : mean;
  }
  // -log sigmoid(l) is the cross-entropy against "ink", -log sigmoid(-l) against "no ink".
  return -at::log_sigmoid(up ? cell_logits : -cell_logits).mean(1);
}

std::vector<double> read_direction_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorKind::input, "direction file '" + path.string() +
                                      "' not found; give a .npy vector or a JSON list of numbers");
  }
  if (path.extension() == ".npy") return read_npy(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text(path));
  } catch (const std::exception&) {
    j = nullptr;
  }
  std::vector<double> out;
  if (j.is_array()) {
    for (const auto& v : j) {
      if (!v.is_number()) break;
      out.push_back(v.get<double>());
    }
  }
  if (out.empty() || out.size() != j.size()) {
    throw Error(ErrorKind::input, "direction file '" + path.string() +
                                      "' is not a JSON list of numbers; write e.g. [0.5, -1, 0] "
                                      "or save a .npy vector");
  }
  return out;
}

BoundObjective bind_objective(const ObjectiveSpec& spec, const InkModel& model,
                              const std::vector<std::int64_t>& row_channels) {
  BoundObjective bound;
  bound.plain_ink = spec.plain_ink();
  bound.reads_layers = spec.reads_layers();
  for (const auto& term : spec.terms) {
    BoundTerm b{term, {}};
    if (term.reads_layer()) {
      const auto* shape = shape_of(model, term.layer);
      if (model.layers.empty()) {
        throw Error(ErrorKind::usage,
                    "--objective " + term.text() + " reads a hidden layer, and model '" +
                        model.card.name +
                        "' exposes none (it has no features method); use logit or bce, or "
                        "export the model with features(x) -> Dict[str, Tensor]");
      }
      if (!shape) {
        throw Error(ErrorKind::usage, "--objective " + term.text() + ": model '" + model.card.name +
                                          "' has no layer '" + term.layer + "'; its layers are " +
                                          channels_text(model));
      }
      const std::int64_t channels = (*shape)[0];
      if (term.kind == TermKind::channel) {
        for (const auto k : row_channels) {
          if (k < 0 || k >= channels) {
            throw Error(ErrorKind::usage, "channel " + std::to_string(k) + " of layer '" +
                                              term.layer + "': it has channels 0.." +
                                              std::to_string(channels - 1) +
                                              "; give channels in that range");
          }
        }
      }
      if ((term.kind == TermKind::channel || term.kind == TermKind::neuron) &&
          term.channel >= channels) {
        throw Error(ErrorKind::usage, "--objective " + term.text() + ": layer '" + term.layer +
                                          "' has channels 0.." + std::to_string(channels - 1) +
                                          "; give a channel in that range");
      }
      if (term.kind == TermKind::neuron && !term.position.empty()) {
        bool fits = term.position.size() + 1 == shape->size();
        for (std::size_t i = 0; fits && i < term.position.size(); ++i)
          fits = term.position[i] < (*shape)[i + 1];
        if (!fits) {
          std::string dims;
          for (std::size_t i = 1; i < shape->size(); ++i)
            dims += (i > 1 ? "," : "") + std::to_string((*shape)[i]);
          throw Error(ErrorKind::usage, "--objective " + term.text() + ": layer '" + term.layer +
                                            "' has positions of shape (" + dims +
                                            "); give one coordinate per axis, each below it");
        }
      }
      if (term.kind == TermKind::direction) {
        const auto v = read_direction_file(term.file);
        if (static_cast<std::int64_t>(v.size()) != channels) {
          throw Error(ErrorKind::input, "direction file '" + term.file + "' has " +
                                            std::to_string(v.size()) + " values, and layer '" +
                                            term.layer + "' has " + std::to_string(channels) +
                                            " channels; give one value per channel");
        }
        at::Tensor d = at::tensor(v, at::kDouble);
        const double norm = d.norm().item<double>();
        if (!(norm > 0) || !std::isfinite(norm)) {
          throw Error(ErrorKind::input, "direction file '" + term.file +
                                            "' holds a zero or non-finite vector; give a "
                                            "direction with finite, not all zero, values");
        }
        b.direction = (d / norm).to(model.device, at::kFloat);
      }
    }
    bound.terms.push_back(std::move(b));
  }
  if (!row_channels.empty())
    bound.row_channels = at::tensor(row_channels, at::kLong).to(model.device);
  return bound;
}

ModelPass run_model(const InkModel& model, const at::Tensor& input, bool with_layers) {
  ModelPass pass;
  if (with_layers) {
    pass.layers = features(model, input);
    // A features method that also returns the model's output (checked at load to have its
    // shape) saves a second pass through the shared layers.
    for (const auto& [name, value] : pass.layers) {
      if (name == "output") {
        pass.output = cell_logits(value, model.card.output_kind);
        return pass;
      }
    }
  }
  pass.output = cell_logits(forward(model, input), model.card.output_kind);
  return pass;
}

at::Tensor term_values(const BoundObjective& objective, const BoundTerm& b, const at::Tensor& cells,
                       const std::vector<std::pair<std::string, at::Tensor>>& layers,
                       Direction direction) {
  const auto& t = b.term;
  switch (t.kind) {
    case TermKind::logit:
      return cells.mean(1);
    case TermKind::bce:
      return direction == Direction::maximize ? at::log_sigmoid(cells).mean(1)
                                              : -at::log_sigmoid(-cells).mean(1);
    case TermKind::channel: {
      const at::Tensor& a = layer_of(layers, t.layer);
      // reshape, not flatten(1): a layer without positions ([N, C], a pooled one) has no dim 1
      // left once its channel is chosen.
      if (!objective.row_channels.defined())
        return a.select(1, t.channel).reshape({a.size(0), -1}).mean(1);
      // One channel per start; a batch of several ways per start repeats the starts.
      const auto n = a.size(0);
      at::Tensor rows = objective.row_channels;
      if (rows.size(0) != n) rows = rows.repeat({n / rows.size(0)});
      return a.reshape({n, a.size(1), -1}).mean(2).gather(1, rows.view({n, 1})).squeeze(1);
    }
    case TermKind::neuron: {
      at::Tensor a = layer_of(layers, t.layer).select(1, t.channel);
      for (std::size_t i = 0; a.dim() > 1; ++i) {
        const auto at_index = i < t.position.size() ? t.position[i] : a.size(1) / 2;
        a = a.select(1, at_index);
      }
      return a;
    }
    case TermKind::direction: {
      const at::Tensor& a = layer_of(layers, t.layer);
      std::vector<std::int64_t> shape(static_cast<std::size_t>(a.dim()), 1);
      shape[1] = a.size(1);
      return (a * b.direction.view(shape)).sum(1).reshape({a.size(0), -1}).mean(1);
    }
  }
  throw Error(ErrorKind::internal, "an objective term of a kind inkgen does not know");
}

at::Tensor objective_values(const BoundObjective& objective, const at::Tensor& cells,
                            const std::vector<std::pair<std::string, at::Tensor>>& layers,
                            Direction direction) {
  at::Tensor total;
  for (const auto& b : objective.terms) {
    const at::Tensor v = term_values(objective, b, cells, layers, direction) * b.term.weight;
    total = total.defined() ? total + v : v;
  }
  return total;
}

at::Tensor objective_loss(const BoundObjective& objective, const at::Tensor& cells,
                          const std::vector<std::pair<std::string, at::Tensor>>& layers,
                          Direction direction) {
  if (objective.plain_ink) return sample_loss(cells, *objective.plain_ink, direction);
  const auto v = objective_values(objective, cells, layers, direction);
  return direction == Direction::maximize ? -v : v;
}

}  // namespace inkgen
