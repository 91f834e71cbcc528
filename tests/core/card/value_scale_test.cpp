#include "inkgen/card/value_scale.hpp"

#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(ValueScale, ParsesRaw16Over65535) {
  const ValueScale s = parse_value_scale("raw16/65535");
  EXPECT_EQ(s.shift, 0);
  EXPECT_FALSE(s.clip.has_value());
  EXPECT_DOUBLE_EQ(s.divisor, 65535.0);
  EXPECT_FLOAT_EQ(s.to_model(65535), 1.0f);
  EXPECT_FLOAT_EQ(s.to_model(0), 0.0f);
  EXPECT_FLOAT_EQ(s.to_model(32768), 32768.0f / 65535.0f);
  EXPECT_DOUBLE_EQ(s.max_value(), 1.0);
}

TEST(ValueScale, ParsesGrandPrizeRule) {
  const ValueScale s = parse_value_scale("min(raw16>>8, 200) / 255");
  EXPECT_EQ(s.shift, 8);
  ASSERT_TRUE(s.clip.has_value());
  EXPECT_EQ(*s.clip, 200);
  EXPECT_DOUBLE_EQ(s.divisor, 255.0);
  EXPECT_FLOAT_EQ(s.to_model(0x1234), 0x12 / 255.0f);  // the low byte is dropped
  EXPECT_FLOAT_EQ(s.to_model(199 << 8 | 0xFF), 199 / 255.0f);
  EXPECT_FLOAT_EQ(s.to_model(65535), 200 / 255.0f);  // clipped at 200
  EXPECT_DOUBLE_EQ(s.max_value(), 200.0 / 255.0);
}

TEST(ValueScale, ReadsThePublishedCardsDescriptiveText) {
  EXPECT_EQ(parse_value_scale("raw uint16 surface-layer value / 65535"),
            parse_value_scale("raw16/65535"));
}

TEST(ValueScale, Raw8MeansTheHighByte) {
  EXPECT_EQ(parse_value_scale("raw8/255"), parse_value_scale("raw16>>8/255"));
  EXPECT_EQ(parse_value_scale("(raw16>>8)/255"), parse_value_scale("raw16>>8/255"));
}

TEST(ValueScale, TextRoundTrips) {
  for (const char* text :
       {"raw16/65535", "min(raw16>>8,200)/255", "raw16>>4/4095", "min(raw16,60000)/65535"}) {
    const ValueScale s = parse_value_scale(text);
    EXPECT_EQ(s.text(), text);
    EXPECT_EQ(parse_value_scale(s.text()), s);
  }
}

TEST(ValueScale, InverseHitsEveryLevelExactly) {
  for (const char* text : {"raw16/65535", "min(raw16>>8,200)/255"}) {
    const ValueScale s = parse_value_scale(text);
    for (int level = 0; level <= s.max_level(); level += 7) {
      const std::uint16_t raw = static_cast<std::uint16_t>(level << s.shift);
      EXPECT_EQ(s.to_raw16(s.to_model(raw)), raw) << text << " level " << level;
    }
  }
}

TEST(ValueScale, InverseClampsToWhatTheRuleCanSay) {
  const ValueScale gp = parse_value_scale("min(raw16>>8,200)/255");
  EXPECT_EQ(gp.to_raw16(1.0), 200 << 8);
  EXPECT_EQ(gp.to_raw16(-0.5), 0);
  EXPECT_EQ(parse_value_scale("raw16/65535").to_raw16(2.0), 65535);
}

TEST(ValueScale, RejectsUnknownRulesNamingTheForms) {
  for (const char* bad :
       {"", "raw16*2", "log(raw16)", "min(raw16>>8)/255", "raw16/0", "raw16>>20/255"}) {
    try {
      parse_value_scale(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage);
      EXPECT_NE(std::string(e.what()).find("raw16"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace inkgen
