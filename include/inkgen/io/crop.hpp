#pragma once

#include <string>

namespace inkgen {

// A rectangle of a segment as the community writes it: x is the column, y the row, the ends are
// exclusive. "x1,y1,x2,y2".
struct Crop {
  int x1 = 0;
  int y1 = 0;
  int x2 = 0;
  int y2 = 0;

  int width() const { return x2 - x1; }
  int height() const { return y2 - y1; }
  std::string text() const;
  bool operator==(const Crop& o) const {
    return x1 == o.x1 && y1 == o.y1 && x2 == o.x2 && y2 == o.y2;
  }
};

// Throws Error(usage) for anything but four integers with x2 > x1, y2 > y1, x1 >= 0, y1 >= 0.
Crop parse_crop(const std::string& text);

}  // namespace inkgen
