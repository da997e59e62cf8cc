// lib/base/ascii.hpp: case folding in ASCII only, whatever the locale.
#include "lib/base/ascii.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::base {
namespace {

TEST(Ascii, ToLowerAndUpper) {
  struct Case {
    std::string in, lower, upper;
  };
  const Case cases[] = {
      {"", "", ""},
      {"MAIL FROM", "mail from", "MAIL FROM"},
      {"Example.COM", "example.com", "EXAMPLE.COM"},
      {"@[\\]^_`{", "@[\\]^_`{", "@[\\]^_`{"},  // neighbours of A-Z and a-z stay
      {"\xc3\x89t\xc3\xa9", "\xc3\x89t\xc3\xa9", "\xc3\x89T\xc3\xa9"},  // non-ASCII bytes stay
  };
  for (const Case& c : cases) {
    EXPECT_EQ(to_lower(c.in), c.lower) << c.in;
    EXPECT_EQ(to_upper(c.in), c.upper) << c.in;
    std::string s = c.in;
    lower_in_place(s);
    EXPECT_EQ(s, c.lower) << c.in;
  }
  EXPECT_EQ(to_lower('Z'), 'z');
  EXPECT_EQ(to_upper('a'), 'A');
  EXPECT_EQ(to_lower('\xc9'), '\xc9');
}

TEST(Ascii, IequalsAndIstartsWith) {
  struct Case {
    std::string a, b;
    bool equals, starts;
  };
  const Case cases[] = {
      {"", "", true, true},           {"EHLO", "ehlo", true, true},
      {"ehlo", "EHL", false, true},   {"EHL", "ehlo", false, false},
      {"[", "{", false, false},  // 0x5B and 0x7B differ by 0x20 but are not letters
      {"\xc9", "\xe9", false, false}, {"Subject: x", "subject:", false, true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(iequals(c.a, c.b), c.equals) << c.a << " / " << c.b;
    EXPECT_EQ(istarts_with(c.a, c.b), c.starts) << c.a << " / " << c.b;
  }
}

TEST(Ascii, Classes) {
  EXPECT_TRUE(is_alpha('a') && is_alpha('Z') && !is_alpha('0') && !is_alpha('\xc9'));
  EXPECT_TRUE(is_digit('0') && is_digit('9') && !is_digit('a'));
  EXPECT_TRUE(is_alnum('q') && is_alnum('7') && !is_alnum('-'));
  EXPECT_TRUE(all_ascii("plain \x7f") && !all_ascii("caf\xc3\xa9"));
}

TEST(Ascii, HexValue) {
  EXPECT_EQ(hex_value('0'), 0);
  EXPECT_EQ(hex_value('9'), 9);
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('F'), 15);
  for (char c : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\xff'}) {
    EXPECT_EQ(hex_value(c), -1) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace hk::base
