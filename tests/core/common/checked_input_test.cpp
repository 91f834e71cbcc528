#include "inkgen/common/checked_input.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

namespace inkgen {
namespace {

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no Error thrown";
  return ErrorKind::internal;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

TEST(CheckedInput, WholeNumbersAreStrictAndFit64Bits) {
  EXPECT_EQ(parse_whole("42"), 42);
  EXPECT_EQ(parse_whole("-7"), -7);
  EXPECT_EQ(parse_whole("+3"), 3);
  EXPECT_EQ(parse_whole("0000000000000000000000012"), 12);  // leading zeros are not magnitude
  EXPECT_EQ(parse_whole("9223372036854775807"), std::numeric_limits<long long>::max());
  for (const char* bad : {"", "-", "1.0", "1e3", " 1", "1 ", "0x10", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999", "12a"})
    EXPECT_FALSE(parse_whole(bad).has_value()) << bad;
  EXPECT_FALSE(parse_whole(std::string(100000, '9')).has_value());
}

TEST(CheckedInput, FiniteNumbersRefuseOverflowAndWords) {
  EXPECT_DOUBLE_EQ(*parse_finite("1e-4"), 1e-4);
  EXPECT_DOUBLE_EQ(*parse_finite("-2.5"), -2.5);
  EXPECT_DOUBLE_EQ(*parse_finite("0e-400"), 0.0);  // zero, spelled oddly, is still zero
  for (const char* bad :
       {"", "1e999", "-1e999", "1e-400", "-2e-320", "nan", "inf", "0x1p3", "1,5", " 1"})
    EXPECT_FALSE(parse_finite(bad).has_value()) << bad;
  EXPECT_FALSE(parse_finite(std::string(100000, '9')).has_value());
}

TEST(CheckedInput, WholeOfJsonTakesIntegralValuesThatFit) {
  using nlohmann::json;
  EXPECT_EQ(whole_of(json(5)), 5);
  EXPECT_EQ(whole_of(json(5.0)), 5);
  EXPECT_EQ(whole_of(json(-3)), -3);
  EXPECT_FALSE(whole_of(json(5.5)).has_value());
  EXPECT_FALSE(whole_of(json(std::numeric_limits<std::uint64_t>::max())).has_value());
  EXPECT_FALSE(whole_of(json(1e20)).has_value());
  EXPECT_FALSE(whole_of(json("5")).has_value());
  EXPECT_FALSE(whole_of(json(true)).has_value());
}

TEST(CheckedInput, RangeErrorsNameTheValueTheRangeAndTheFix) {
  const std::string m = message_of(
      [] { parse_whole_in("70000", 0, 65535, "the clip", ErrorKind::usage, "give less"); });
  EXPECT_NE(m.find("the clip is 70000, outside 0..65535; give less"), std::string::npos) << m;
  EXPECT_EQ(kind_of([] { parse_whole_in("x", 0, 1, "v", ErrorKind::model, "f"); }),
            ErrorKind::model);
  const std::string big = message_of(
      [] { parse_whole_in(std::string(100000, '9'), 0, 1, "--steps", ErrorKind::usage, "f"); });
  EXPECT_LT(big.size(), 200u) << "a 100,000-digit value must not be echoed whole";
  EXPECT_NE(big.find("too large"), std::string::npos) << big;
}

TEST(CheckedInput, ExcerptCutsLongTextAndSaysHowLong) {
  EXPECT_EQ(excerpt("short"), "short");
  const std::string cut = excerpt(std::string(10'000'000, 'a'));
  EXPECT_LT(cut.size(), 100u);
  EXPECT_NE(cut.find("10000000 characters"), std::string::npos) << cut;
  EXPECT_EQ(excerpt(nlohmann::json("\xff")), "\"\xEF\xBF\xBD\"");  // invalid UTF-8 does not throw
}

TEST(CheckedInput, ExcerptEscapesControlBytesAndInvalidUtf8) {
  EXPECT_EQ(excerpt("a\nb\tc"), "a\\x0Ab\\x09c");
  EXPECT_EQ(excerpt("\xff\xfe"), "\\xFF\\xFE");
  EXPECT_EQ(excerpt("\xC0\xAF"), "\\xC0\\xAF");           // an overlong '/'
  EXPECT_EQ(excerpt("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate
  EXPECT_EQ(excerpt("papyrus \xCF\x80 \xE2\x82\xAC"), "papyrus \xCF\x80 \xE2\x82\xAC");  // kept
  // Cut by characters, never inside one.
  EXPECT_EQ(excerpt(std::string(3, '\xCF') + "", 2), "\\xCF\\xCF... (3 characters)");
  EXPECT_EQ(excerpt("\xCF\x80\xCF\x80\xCF\x80", 2), "\xCF\x80\xCF\x80... (6 characters)");
}

TEST(CheckedInput, JsonWithANulByteOrARepeatedKeyIsRefused) {
  const std::string with_nul = std::string("{\"steps\": 2}") + '\0' + "{\"steps\": 3}";
  const std::string nul =
      message_of([&] { parse_json_input(with_nul, ErrorKind::usage, "cfg", "fix"); });
  EXPECT_NE(nul.find("cfg holds a NUL byte (at byte 12)"), std::string::npos) << nul;
  for (const char* repeated : {"{\"a\": 1, \"a\": 2}", "{\"x\": {\"b\": 1, \"b\": 1}}",
                               "[{\"c\": 1}, {\"d\": {\"c\": 2, \"c\": 3}}]"}) {
    const std::string m =
        message_of([&] { parse_json_input(repeated, ErrorKind::input, "line 2", "fix"); });
    EXPECT_NE(m.find("given twice in one object"), std::string::npos) << repeated << ": " << m;
    EXPECT_EQ(kind_of([&] { parse_json_input(repeated, ErrorKind::input, "l", "f"); }),
              ErrorKind::input);
  }
  // The same key in sibling or nested objects is no repeat.
  EXPECT_NO_THROW(
      parse_json_input("[{\"a\": 1}, {\"a\": {\"a\": 2}}]", ErrorKind::input, "l", "f"));
}

TEST(CheckedInput, DeepJsonIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string m =
      message_of([&] { parse_json_input(deep, ErrorKind::input, "line 3", "flatten it"); });
  EXPECT_NE(m.find("line 3 nests lists or objects more than 64 levels"), std::string::npos) << m;
  // Exactly at the limit is fine; brackets inside strings do not count.
  const std::string at_limit = std::string(64, '[') + std::string(64, ']');
  EXPECT_NO_THROW(parse_json_input(at_limit, ErrorKind::input, "x", "y"));
  const std::string in_string = "{\"a\": \"" + std::string(1000, '[') + "\\\"\"}";
  EXPECT_EQ(parse_json_input(in_string, ErrorKind::input, "x", "y").at("a").get<std::string>(),
            std::string(1000, '[') + "\"");
}

TEST(CheckedInput, JsonSyntaxAndOverflowBecomeOneLineErrorsOfTheGivenKind) {
  for (const char* bad : {"{\"lr\": 1e999}", "{\"a\": }", "[1, 2", "{\"a\": -1e400}"}) {
    const std::string m =
        message_of([&] { parse_json_input(bad, ErrorKind::model, "card c.json", "fix it"); });
    EXPECT_EQ(m.rfind("card c.json is not valid JSON (", 0), 0u) << m;
    EXPECT_NE(m.find("; fix it"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(kind_of([&] { parse_json_input(bad, ErrorKind::model, "c", "f"); }),
              ErrorKind::model);
  }
}

TEST(CheckedInput, InputShapesAreBoundedPerDimensionAndInProduct) {
  EXPECT_NO_THROW(check_input_shape({1, 26, 64, 64}, "s", ErrorKind::model, "f"));
  EXPECT_NO_THROW(check_input_shape({1, 64, 1024, 1024}, "s", ErrorKind::model, "f"));  // 2^26
  EXPECT_EQ(kind_of([] {
              check_input_shape({1, 64, 1024, 1025}, "s", ErrorKind::usage, "f");
            }),
            ErrorKind::usage);
  // Each factor within bounds, the product not: 3037000500^2 overflowed int64 before.
  EXPECT_EQ(kind_of([] {
              check_input_shape({1, 4, 60000, 60000}, "s", ErrorKind::usage, "f");
            }),
            ErrorKind::usage);
  EXPECT_EQ(kind_of([] {
              check_input_shape({1, 4, 3037000500, 12}, "s", ErrorKind::model, "f");
            }),
            ErrorKind::model);
  EXPECT_EQ(kind_of([] {
              check_input_shape({0, 4, 12, 12}, "s", ErrorKind::model, "f");
            }),
            ErrorKind::model);
}

}  // namespace
}  // namespace inkgen
