#include "inkgen/io/crop.hpp"

#include <algorithm>
#include <limits>
#include <sstream>
#include <vector>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

std::string Crop::text() const {
  return std::to_string(x1) + "," + std::to_string(y1) + "," + std::to_string(x2) + "," +
         std::to_string(y2);
}

Crop parse_crop(const std::string& text) {
  std::vector<long long> v;
  std::stringstream in(text);
  std::string part;
  // Exactly three commas: getline drops an empty last part, so "0,0,64,64," would pass.
  bool ok = text.size() < 200 && std::count(text.begin(), text.end(), ',') == 3;
  while (ok && std::getline(in, part, ',')) {
    const auto n = parse_whole(part);
    ok = n.has_value();
    if (ok) v.push_back(*n);
  }
  if (!ok || v.size() != 4) {
    throw Error(ErrorKind::usage, "--crop '" + excerpt(text) +
                                      "' is not x1,y1,x2,y2; write four integers, e.g. 0,0,64,64");
  }
  // Pixel coordinates are ints everywhere after this; a segment's side fits one with room.
  for (const long long c : v) {
    if (c > std::numeric_limits<int>::max() / 2 || c < -(std::numeric_limits<int>::max() / 2)) {
      throw Error(ErrorKind::usage, "--crop " + excerpt(text) + " has a coordinate beyond +-" +
                                        std::to_string(std::numeric_limits<int>::max() / 2) +
                                        "; give pixel coordinates inside the segment");
    }
  }
  const Crop crop{static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]),
                  static_cast<int>(v[3])};
  if (crop.x1 < 0 || crop.y1 < 0) {
    throw Error(ErrorKind::usage,
                "--crop " + excerpt(text) + " starts at a negative pixel; x1 and y1 must be >= 0");
  }
  if (crop.x2 <= crop.x1) {
    throw Error(ErrorKind::usage,
                "--crop " + excerpt(text) +
                    " has x2 <= x1; x2 is the exclusive end column and must exceed x1");
  }
  if (crop.y2 <= crop.y1) {
    throw Error(ErrorKind::usage,
                "--crop " + excerpt(text) +
                    " has y2 <= y1; y2 is the exclusive end row and must exceed y1");
  }
  return crop;
}

}  // namespace inkgen
