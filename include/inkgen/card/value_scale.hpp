#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "inkgen/common/error.hpp"

namespace inkgen {

// How a raw 16-bit segment value becomes a model input value:
//   value = min(raw16 >> shift, clip) / divisor
// This one form covers the rules in use: `raw16/65535` (shift 0, no clip, divisor 65535) and the
// Grand Prize rule `min(raw16>>8,200)/255`. 8-bit layers are widened to 16 bits as raw8 * 257, so
// `raw16>>8` gives back exactly the 8-bit value and full scale stays full scale.
struct ValueScale {
  int shift = 0;
  std::optional<int> clip;
  double divisor = 65535.0;

  // The canonical text of the rule, e.g. "min(raw16>>8,200)/255"; parse_value_scale reads it back.
  std::string text() const;
  // The largest raw16 >> shift value that the rule passes through.
  int max_level() const;
  // The largest model value the rule can give: max_level() / divisor.
  double max_value() const;

  float to_model(std::uint16_t raw16) const;
  // The inverse: the raw16 value that to_model maps closest to `value` (clamped to what the rule
  // can represent). to_model(to_raw16(v)) == v up to one quantisation step of the rule.
  std::uint16_t to_raw16(double value) const;

  bool operator==(const ValueScale& other) const {
    return shift == other.shift && clip == other.clip && divisor == other.divisor;
  }
};

// Parses a rule written as text. Whitespace and case do not matter. Accepted forms:
//   raw16/D, raw16>>S/D, (raw16>>S)/D, min(raw16,C)/D, min(raw16>>S,C)/D, raw8/D (= raw16>>8 / D)
// and the descriptive text of the published cards, "raw uint16 surface-layer value / 65535".
// Throws Error(usage) naming the accepted forms.
ValueScale parse_value_scale(const std::string& text);

// Throws Error(kind) naming the field (shift, clip or divisor) that is out of bounds, prefixed
// by `what` (e.g. "model card m.json: 'input.scale'").
void check_value_scale(const ValueScale& scale, const std::string& what, ErrorKind kind);

}  // namespace inkgen
