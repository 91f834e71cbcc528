#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "inkgen/common/error.hpp"

namespace inkgen {

// One table of names per enum gives its to_string, its parser and the "use a, b or c" message,
// so that the three cannot drift apart. Tables are constexpr arrays beside the enum.
template <typename E>
struct EnumName {
  E value;
  const char* name;
};

template <typename E, std::size_t N>
using EnumNames = std::array<EnumName<E>, N>;

template <typename E, std::size_t N>
const char* enum_name(const EnumNames<E, N>& names, E value) {
  for (const auto& n : names)
    if (n.value == value) return n.name;
  return names[0].name;
}

// "a, b or c".
template <typename E, std::size_t N>
std::string enum_choices(const EnumNames<E, N>& names) {
  std::string text;
  for (std::size_t i = 0; i < N; ++i)
    text += (i == 0 ? "" : (i + 1 == N ? " or " : ", ")) + std::string(names[i].name);
  return text;
}

// Throws Error(usage) "OPTION 'text' is unknown; use a, b or c".
template <typename E, std::size_t N>
E parse_enum(const EnumNames<E, N>& names, const std::string& text, const std::string& option) {
  for (const auto& n : names)
    if (text == n.name) return n.value;
  const std::string shown = text.size() > 40 ? text.substr(0, 37) + "..." : text;
  throw Error(ErrorKind::usage, option + " '" + shown + "' is unknown; use " + enum_choices(names));
}

}  // namespace inkgen
