#include "inkgen/jobs/shard.hpp"

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

Shard parse_shard(const std::string& text) {
  // Digits only on both sides: " 0/2" or "+0/2" name the same shard as "0/2" under another
  // spelling, and the shard's text is part of what a batch records.
  const auto digits = [](const std::string& part) {
    return !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
  };
  const auto slash = text.find('/');
  const std::string i_text = text.substr(0, slash);
  const std::string n_text = slash == std::string::npos ? "" : text.substr(slash + 1);
  // -1 and 0: no shard, when either side is not digits or does not fit.
  const long long i = digits(i_text) ? parse_whole(i_text).value_or(-1) : -1;
  const long long n = digits(n_text) ? parse_whole(n_text).value_or(0) : 0;
  if (i < 0 || n < 1 || n > 1000000 || i >= n) {
    throw Error(ErrorKind::usage, "--shard '" + excerpt(text) +
                                      "' is not i/n with 0 <= i < n <= 1000000; e.g. --shard 0/4 "
                                      "for the first of four shards");
  }
  return {static_cast<int>(i), static_cast<int>(n)};
}

}  // namespace inkgen
