#pragma once

// What a run maximizes or minimizes, as plain values (no LibTorch: the option table, the JOBS
// parser and the fuzz/ASan builds read it): a weighted sum of terms, each the model's ink output
// or one part of a hidden layer the model exposes through its `features` method.
//
//   --objective bce                                  today's ink objectives (logit, bce)
//   --objective "channel:down2:3"                    the mean of channel 3 of layer down2
//   --objective "neuron:down2:3"                     channel 3 at the layer's centre position
//   --objective "neuron:down2:3:4,8,8"               ... at position (t,y,x) = (4,8,8)
//   --objective "direction:down3:dir.json"           the mean projection on a channel vector
//   --objective "channel:down2:3 - 0.5*logit"        a weighted sum
//
// The same text (or a JSON list of {"term": ..., "weight": ...}) is a JOBS "objective".
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/enum_names.hpp"

namespace inkgen {

// What a step moves, read off the model's output cells (one cell for a model with one output per
// sample, 16x16 for the Grand Prize I3D):
//  - logit: the mean ink logit over the cells. On a map model the cells already sure of ink can
//    keep growing without bound, so the mean can climb while whole columns of cells stay at no
//    ink.
//  - bce: the mean binary cross-entropy of every cell against the label the run wants (ink when
//    maximizing, no ink when minimizing). A cell that already agrees has a vanishing gradient, so
//    the step goes to the cells that still disagree, and the mean probability, which is what
//    inkgen reports, is what rises.
enum class Objective { logit, bce };
inline constexpr EnumNames<Objective, 2> objective_names{
    {{Objective::logit, "logit"}, {Objective::bce, "bce"}}};
inline Objective parse_objective(const std::string& text) {
  return parse_enum(objective_names, text, "--objective");
}
inline const char* to_string(Objective o) {
  return enum_name(objective_names, o);
}

enum class TermKind {
  logit,      // the mean ink logit over the output cells ("ink" is another name for it)
  bce,        // every output cell's cross-entropy against the wanted label
  channel,    // the mean of one channel of a layer over its positions
  neuron,     // one channel of a layer at one position
  direction,  // the mean over positions of the layer's channel vector projected on a unit vector
};

struct ObjectiveTerm {
  double weight = 1.0;
  TermKind kind = TermKind::logit;
  std::string layer;                   // channel, neuron, direction
  std::int64_t channel = 0;            // channel, neuron
  std::vector<std::int64_t> position;  // neuron; empty: the layer's centre
  std::string file;                    // direction: a .json list or a .npy vector of floats

  bool reads_layer() const { return kind != TermKind::logit && kind != TermKind::bce; }
  // The term without its weight, as it is written: "channel:down2:3".
  std::string text() const;
};

struct ObjectiveSpec {
  std::vector<ObjectiveTerm> terms{ObjectiveTerm{}};

  // The ink objective of a single term of weight 1 (today's objectives), else none.
  std::optional<Objective> plain_ink() const;
  bool reads_layers() const;
  // The canonical text, which run.json records and fingerprints hash: "logit", "bce",
  // "channel:down2:3 - 0.5*logit".
  std::string text() const;
};

ObjectiveSpec ink_objective(Objective form);

// The objective with every channel term reading `channel` (a start of a channel atlas).
ObjectiveSpec with_channel(ObjectiveSpec spec, std::int64_t channel);

// Throws Error(usage) naming the term that cannot be read and how to write it.
ObjectiveSpec parse_objective_spec(const std::string& text);

// A JOBS value: the text, or a list of {"term": TEXT, "weight": W}. Returns the canonical text.
std::string objective_text_of(const nlohmann::json& value);

}  // namespace inkgen
