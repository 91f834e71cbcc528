#pragma once

// Everything a user states (command line, --config, a model card, a JOBS line) passes through
// these before any arithmetic uses it: numbers into a checked range, JSON only up to a bounded
// nesting depth, and what a message echoes back cut to a short excerpt. No LibTorch here: the
// fuzz targets use this file.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "inkgen/common/error.hpp"

namespace inkgen {

// Deeper input is refused before parsing: nlohmann's dump() and comparisons recurse, and a
// 100,000-level JOBS line overflowed the stack while its error message was built. Real configs,
// cards and JOBS lines are 2-3 levels deep.
inline constexpr int max_json_depth = 64;

// Bounds on a model's input and output, per sample: dimensions a real ink model can have
// (the Grand Prize models take 1x26x64x64), far below where products overflow or allocations fail.
inline constexpr std::int64_t max_model_dim = 1 << 16;
// 2^26 values (256 MiB as float32, 1x64x1024x1024): 500 times a Grand Prize crop. The load check's
// one forward pass needs many times its input: 1x64x2048x2048 (2^28) through a one-layer model
// took 13 GB and 77 s before it could fail.
inline constexpr std::int64_t max_sample_values = std::int64_t{1} << 26;

// At most `max` characters of `text`, with "..." and the full length when cut, so that a 10 MB
// value does not come back whole in a one-line message.
std::string excerpt(std::string_view text, std::size_t max = 48);
// The same for a JSON value (its compact text).
std::string excerpt(const nlohmann::json& value, std::size_t max = 48);
// Strings convert to both of the above; these pick the text form.
inline std::string excerpt(const std::string& text, std::size_t max = 48) {
  return excerpt(std::string_view(text), max);
}
inline std::string excerpt(const char* text, std::size_t max = 48) {
  return excerpt(std::string_view(text), max);
}

// A whole number written as optional sign and decimal digits, nothing else; nullopt when it is
// not one or does not fit 64 bits.
std::optional<long long> parse_whole(std::string_view text);
// A finite decimal number (strtod's syntax, no "nan"/"inf"); nullopt otherwise or when beyond
// double's range either way (too large, or too close to 0 to be told from it).
std::optional<double> parse_finite(std::string_view text);
// A JSON number that is whole (an integer, or a float with no fraction) and fits 64 bits.
std::optional<long long> whole_of(const nlohmann::json& value);

// `value` when lo <= value <= hi; otherwise Error(kind): "<what> is <value>, outside lo..hi;
// <fix>".
long long check_range(long long value, long long lo, long long hi, const std::string& what,
                      ErrorKind kind, const std::string& fix);
// parse_whole + check_range; "<what> must be a whole number, got '<excerpt>'" when it is not one.
long long parse_whole_in(std::string_view text, long long lo, long long hi, const std::string& what,
                         ErrorKind kind, const std::string& fix);

// Throws Error(kind) when `text` nests arrays and objects deeper than max_json_depth. Brackets
// inside strings do not count.
void check_json_depth(std::string_view text, ErrorKind kind, const std::string& origin);

// Parses JSON from a user: depth checked first; syntax errors and numbers beyond double's range
// ("1e999") become Error(kind) "<origin> is not valid JSON (<reason>); <fix>".
nlohmann::json parse_json_input(std::string_view text, ErrorKind kind, const std::string& origin,
                                const std::string& fix,
                                const nlohmann::json::parser_callback_t& callback = nullptr);

// A model's input shape C,D,H,W: each within 1..max_model_dim and C*D*H*W <= max_sample_values.
// Throws Error(kind) naming `what` otherwise.
void check_input_shape(const std::array<std::int64_t, 4>& shape, const std::string& what,
                       ErrorKind kind, const std::string& fix);

}  // namespace inkgen
