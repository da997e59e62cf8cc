// lib/base/base64.hpp: RFC 4648 §10 vectors, and what the strict decoder refuses.
#include "lib/base/base64.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>

namespace hk::base {
namespace {

TEST(Base64, Rfc4648Vectors) {
  struct Case {
    std::string plain, encoded;
  };
  const Case cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\0\xff\xfe", 3), "AP/+"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(base64_encode(c.plain), c.encoded);
    EXPECT_EQ(base64_decode(c.encoded), c.plain) << c.encoded;
    EXPECT_EQ(base64_decode(c.encoded, Base64Tail::AnyBits), c.plain) << c.encoded;
  }
  const std::array<unsigned char, 3> bytes = {0x00, 0xff, 0xfe};
  EXPECT_EQ(base64_encode(bytes), "AP/+");
}

TEST(Base64, DecodeRules) {
  struct Case {
    std::string text;
    std::optional<std::string> canonical, any_bits;
  };
  const Case cases[] = {
      {"Zg", std::nullopt, std::nullopt},         // length not a multiple of 4
      {"Zg=", std::nullopt, std::nullopt},        //
      {"Zg===", std::nullopt, std::nullopt},      //
      {"Z===", std::nullopt, std::nullopt},       // three pads
      {"====", std::nullopt, std::nullopt},       //
      {"Zg==Zg==", std::nullopt, std::nullopt},   // padding in the middle
      {"Z=g=", std::nullopt, std::nullopt},       //
      {"Zm9v\r\n", std::nullopt, std::nullopt},   // no whitespace
      {"Zm 9", std::nullopt, std::nullopt},       //
      {"Zm-_", std::nullopt, std::nullopt},       // base64url alphabet is not ours
      {"Zh==", std::nullopt, std::string("f")},   // non-zero unused bits (RFC 4648 §3.5)
      {"Zm9=", std::nullopt, std::string("fo")},  //
      {"Zm8=", std::string("fo"), std::string("fo")},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(base64_decode(c.text, Base64Tail::Canonical), c.canonical) << c.text;
    EXPECT_EQ(base64_decode(c.text, Base64Tail::AnyBits), c.any_bits) << c.text;
  }
}

}  // namespace
}  // namespace hk::base
