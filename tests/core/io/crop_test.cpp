#include "inkgen/io/crop.hpp"

#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(Crop, ParsesColumnsThenRowsEndExclusive) {
  const Crop c = parse_crop("10,20,74,84");
  EXPECT_EQ(c.x1, 10);
  EXPECT_EQ(c.y1, 20);
  EXPECT_EQ(c.width(), 64);
  EXPECT_EQ(c.height(), 64);
  EXPECT_EQ(c.text(), "10,20,74,84");
}

void expect_usage_error(const std::string& text, const std::string& needle) {
  try {
    parse_crop(text);
    ADD_FAILURE() << "accepted " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Crop, RejectsMalformedText) {
  expect_usage_error("1,2,3", "x1,y1,x2,y2");
  expect_usage_error("1,2,3,4,5", "x1,y1,x2,y2");
  expect_usage_error("a,b,c,d", "x1,y1,x2,y2");
  expect_usage_error("1.5,2,3,4", "x1,y1,x2,y2");
  expect_usage_error("0,0,16,16,", "x1,y1,x2,y2");  // getline drops an empty last part
  expect_usage_error(",0,0,16,16", "x1,y1,x2,y2");
  expect_usage_error("0,0,,16", "x1,y1,x2,y2");
}

TEST(Crop, RejectsEmptyOrReversedRectangles) {
  expect_usage_error("10,0,10,64", "x2 <= x1");
  expect_usage_error("10,0,5,64", "x2 <= x1");
  expect_usage_error("0,64,64,64", "y2 <= y1");
  expect_usage_error("-1,0,63,64", "negative");
}

}  // namespace
}  // namespace inkgen
