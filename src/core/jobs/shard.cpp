#include "inkgen/jobs/shard.hpp"

#include <sstream>

#include "inkgen/common/error.hpp"

namespace inkgen {

Shard parse_shard(const std::string& text) {
  long long i = -1, n = 0;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> i >> slash >> n) || slash != '/' || !(in >> std::ws).eof() || n < 1 || n > 1000000 ||
      i < 0 || i >= n) {
    throw Error(ErrorKind::usage, "--shard '" + text +
                                      "' is not i/n with 0 <= i < n; e.g. --shard 0/4 for the "
                                      "first of four shards");
  }
  return {static_cast<int>(i), static_cast<int>(n)};
}

}  // namespace inkgen
