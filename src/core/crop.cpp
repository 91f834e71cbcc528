#include "inkgen/crop.hpp"

#include <sstream>
#include <vector>

#include "inkgen/error.hpp"

namespace inkgen {

std::string Crop::text() const {
  return std::to_string(x1) + "," + std::to_string(y1) + "," + std::to_string(x2) + "," +
         std::to_string(y2);
}

Crop parse_crop(const std::string& text) {
  std::vector<int> v;
  std::stringstream in(text);
  std::string part;
  bool ok = true;
  while (std::getline(in, part, ',')) {
    std::size_t used = 0;
    try {
      v.push_back(std::stoi(part, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size()) ok = false;
  }
  if (!ok || v.size() != 4) {
    throw Error(ErrorKind::usage,
                "--crop '" + text + "' is not x1,y1,x2,y2; write four integers, e.g. 0,0,64,64");
  }
  const Crop crop{v[0], v[1], v[2], v[3]};
  if (crop.x1 < 0 || crop.y1 < 0) {
    throw Error(ErrorKind::usage,
                "--crop " + text + " starts at a negative pixel; x1 and y1 must be >= 0");
  }
  if (crop.x2 <= crop.x1) {
    throw Error(
        ErrorKind::usage,
        "--crop " + text + " has x2 <= x1; x2 is the exclusive end column and must exceed x1");
  }
  if (crop.y2 <= crop.y1) {
    throw Error(ErrorKind::usage,
                "--crop " + text + " has y2 <= y1; y2 is the exclusive end row and must exceed y1");
  }
  return crop;
}

}  // namespace inkgen
