#include "inkgen/common/checked_input.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <vector>

#include "inkgen/common/json_text.hpp"

namespace inkgen {

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (shortest form, no surrogates, at most
// U+10FFFF); 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  const std::size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                        : c >= 0xE0 && c <= 0xEF ? 3
                        : c >= 0xF0 && c <= 0xF4 ? 4
                                                 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  const unsigned char d = byte(i + 1);
  if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
      (c == 0xF4 && d > 0x8F))
    return 0;
  return n;
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max) {
  // Control characters and bytes that are not UTF-8 come back as \xNN: a message is one line
  // of text, whatever a file or an argument held.
  std::string out;
  std::size_t i = 0, shown = 0;
  for (; i < text.size() && shown < max; ++shown) {
    const std::size_t n = utf8_length(text, i);
    const auto c = static_cast<unsigned char>(text[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
      out += escaped;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " characters)";
  return out;
}

std::string excerpt(const nlohmann::json& value, std::size_t max) {
  // Depth was bounded at parse time, so dump() cannot recurse far; replace keeps invalid UTF-8
  // from throwing while the message is built.
  return excerpt(json_text(value), max);
}

std::optional<long long> parse_whole(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  if (i == text.size()) return std::nullopt;
  for (std::size_t j = i; j < text.size(); ++j)
    if (text[j] < '0' || text[j] > '9') return std::nullopt;
  // Digits beyond 19 cannot fit; stop before strtoll walks a 100,000-digit string.
  std::size_t first = i;
  while (first + 1 < text.size() && text[first] == '0')
    ++first;
  if (text.size() - first > 19) return std::nullopt;
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(copy.c_str(), &end, 10);
  if (errno == ERANGE || end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_finite(std::string_view text) {
  if (text.empty() || text.size() > 400) return std::nullopt;
  for (const char c : text) {
    const bool allowed =
        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!allowed) return std::nullopt;  // no "nan", "inf", hex or whitespace
  }
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  // Overflow, and underflow too: "1e-400" read as 0 would be reported back as "got 0".
  if (errno == ERANGE) return std::nullopt;
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<long long> whole_of(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<long long>::max())) return std::nullopt;
    return static_cast<long long>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    // 2^63 itself does not fit; the bound is exact in double.
    if (!std::isfinite(d) || std::floor(d) != d || std::abs(d) >= 9.2233720368547758e18)
      return std::nullopt;
    return static_cast<long long>(d);
  }
  return std::nullopt;
}

long long check_range(long long value, long long lo, long long hi, const std::string& what,
                      ErrorKind kind, const std::string& fix) {
  if (value < lo || value > hi) {
    throw Error(kind, what + " is " + std::to_string(value) + ", outside " + std::to_string(lo) +
                          ".." + std::to_string(hi) + "; " + fix);
  }
  return value;
}

long long parse_whole_in(std::string_view text, long long lo, long long hi, const std::string& what,
                         ErrorKind kind, const std::string& fix) {
  const auto v = parse_whole(text);
  if (!v) {
    const bool digits = !text.empty() && text.find_first_not_of("+-0123456789") == text.npos;
    throw Error(kind, what + (digits ? " is too large: '" : " must be a whole number, got '") +
                          excerpt(text) + "'; " + fix);
  }
  return check_range(*v, lo, hi, what, kind, fix);
}

void check_json_depth(std::string_view text, ErrorKind kind, const std::string& origin) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth) {
        throw Error(kind, origin + " nests lists or objects more than " +
                              std::to_string(max_json_depth) +
                              " levels deep; inkgen's JSON inputs are a few levels deep, so "
                              "flatten it");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

nlohmann::json parse_json_input(std::string_view text, ErrorKind kind, const std::string& origin,
                                const std::string& fix,
                                const nlohmann::json::parser_callback_t& callback) {
  check_json_depth(text, kind, origin);
  // nlohmann stops at a NUL as at the end of the input, and would take what follows for nothing.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(kind, origin + " holds a NUL byte (at byte " + std::to_string(nul) +
                          "); it is not text: " + fix);
  }
  // A key given twice would silently mean its last value; every object's keys are checked.
  std::vector<std::set<std::string>> keys;
  const nlohmann::json::parser_callback_t checked =
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) keys.emplace_back();
        if (event == Event::object_end && !keys.empty()) keys.pop_back();
        if (event == Event::key && !keys.empty() &&
            !keys.back().insert(parsed.get<std::string>()).second) {
          throw Error(kind, origin + " has the key \"" + excerpt(parsed.get<std::string>()) +
                                "\" given twice in one object; keep one");
        }
        return callback ? callback(depth, event, parsed) : true;
      };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), checked);
  } catch (const nlohmann::json::exception& e) {
    // parse_error for syntax, out_of_range for "1e999". Keep the reason, drop the library's tag.
    std::string why = e.what();
    if (const auto tag_end = why.find("] "); tag_end != std::string::npos)
      why = why.substr(tag_end + 2);
    if (const auto at = why.find("parse error at "); at == 0) why = why.substr(15);
    throw Error(kind, origin + " is not valid JSON (" + excerpt(why, 120) + "); " + fix);
  }
}

void check_input_shape(const std::array<std::int64_t, 4>& shape, const std::string& what,
                       ErrorKind kind, const std::string& fix) {
  static const char* const names[] = {"C", "D", "H", "W"};
  std::int64_t values = 1;
  for (std::size_t i = 0; i < 4; ++i) {
    if (shape[i] < 1 || shape[i] > max_model_dim) {
      throw Error(kind, what + " " + names[i] + " is " + std::to_string(shape[i]) +
                            ", outside 1.." + std::to_string(max_model_dim) + "; " + fix);
    }
    values *= shape[i];  // each factor <= 2^16 and the running product is checked below
    if (values > max_sample_values) {
      throw Error(kind, what + " asks for more than " + std::to_string(max_sample_values) +
                            " input values per sample (C*D*H*W); " + fix);
    }
  }
}

}  // namespace inkgen
