// Tests for base64, AUTH PLAIN decoding and xtext.
#include "lib/smtp/auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "lib/base/base64.hpp"

namespace hk::smtp {
namespace {

using namespace std::string_literals;

TEST(Base64, Rfc4648TestVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {"\0user\0pass"s, "AHVzZXIAcGFzcw=="},
      {"\xff\xfe\x00"s, "//4A"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base::base64_encode(plain), encoded);
    std::optional<std::string> decoded = base::base64_decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, RejectsNonCanonicalInput) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm9v\r\n", "Zm 9v",
                          "=Zg=", "Zg==Zg==", "Zm9vYmFy====", "Zm8", "Z!==", "Zm9v YmFy",
                          "====", "Zm-v", "Zm_v", "Zg=a"}) {
    EXPECT_FALSE(base::base64_decode(bad).has_value()) << bad;
  }
}

TEST(Base64, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string part = all.substr(0, n);
    EXPECT_EQ(base::base64_decode(base::base64_encode(part)), part);
  }
}

struct PlainCase {
  std::string message;  // before base64
  bool ok = false;
  std::string authzid = {};
  std::string authcid = {};
  std::string password = {};
};

TEST(AuthPlain, DecodesAndChecks) {
  const PlainCase cases[] = {
      {"\0user\0pass"s, true, "", "user", "pass"},
      {"user\0user\0pass"s, true, "user", "user", "pass"},
      {"\0user@example.com\0p\xC3\xA4ss word"s, true, "", "user@example.com", "p\xC3\xA4ss word"},
      {"admin\0user\0pass"s, false},  // proxy authorisation is refused
      {"\0\0pass"s, false},
      {"\0user\0"s, false},
      {"user\0pass"s, false},
      {"\0u\0p\0x"s, false},
      {"userpass"s, false},
      {""s, false},
      {"\0user\0"s + std::string(256, 'p'), false},
      {"\0"s + std::string(256, 'u') + "\0pass"s, false},
      {"\0user\0"s + std::string(255, 'p'), true, "", "user", std::string(255, 'p')},
  };
  for (const PlainCase& c : cases) {
    std::optional<PlainCredentials> creds = decode_auth_plain(base::base64_encode(c.message));
    ASSERT_EQ(creds.has_value(), c.ok) << base::base64_encode(c.message);
    if (c.ok) {
      EXPECT_EQ(creds->authzid, c.authzid);
      EXPECT_EQ(creds->authcid, c.authcid);
      EXPECT_EQ(creds->password, c.password);
    }
  }
  EXPECT_FALSE(decode_auth_plain("not base64!"));
  EXPECT_FALSE(decode_auth_plain("="));
}

TEST(Xtext, Decodes) {
  const std::pair<std::string, std::optional<std::string>> cases[] = {
      {"abc", "abc"},
      {"", ""},
      {"a+2Bb", "a+b"},
      {"a+3Db", "a=b"},
      {"user+40example.com", "user@example.com"},
      {"+00", "\0"s},
      {"<>", "<>"},
      {"+", std::nullopt},
      {"+2", std::nullopt},
      {"+2b", std::nullopt},  // hexchar is upper case only
      {"+GG", std::nullopt},
      {"a b", std::nullopt},
      {"a=b", std::nullopt},
      {"\xC3\xBC", std::nullopt},
      {"a\x7f", std::nullopt},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(xtext_decode(in), out) << in;
  }
}

TEST(Xtext, EncodesAndRoundTrips) {
  EXPECT_EQ(xtext_encode("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(xtext_encode("user@example.com"), "user@example.com");
  EXPECT_EQ(xtext_encode("\xC3\xBC"), "+C3+BC");
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  EXPECT_EQ(xtext_decode(xtext_encode(all)), all);
}

}  // namespace
}  // namespace hk::smtp
