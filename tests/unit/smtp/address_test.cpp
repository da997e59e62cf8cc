// Tests for envelope path parsing (RFC 5321 §4.1.2, RFC 6531) and domain normalisation.
#include "lib/smtp/address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::smtp {
namespace {

constexpr PathKind R = PathKind::Reverse;
constexpr PathKind F = PathKind::Forward;

struct GoodPath {
  std::string path;
  PathKind kind;
  std::string local;
  std::string domain;
  bool literal = false;
  bool utf8 = false;
};

class GoodPathTest : public ::testing::TestWithParam<GoodPath> {};

TEST_P(GoodPathTest, Parses) {
  const GoodPath& c = GetParam();
  PathResult r = parse_path(c.path, c.kind);
  ASSERT_TRUE(r.ok) << c.path << " -> " << r.error.wire();
  EXPECT_EQ(r.value.local, c.local) << c.path;
  EXPECT_EQ(r.value.domain, c.domain) << c.path;
  EXPECT_EQ(r.value.literal, c.literal) << c.path;
  EXPECT_EQ(r.value.utf8, c.utf8) << c.path;
}

TEST_P(GoodPathTest, StrParsesBackToTheSameAddress) {
  const GoodPath& c = GetParam();
  PathResult first = parse_path(c.path, c.kind);
  ASSERT_TRUE(first.ok);
  PathResult again = parse_path("<" + first.value.str() + ">", c.kind);
  ASSERT_TRUE(again.ok) << first.value.str();
  EXPECT_EQ(again.value, first.value) << first.value.str();
}

const std::string k64(64, 'a');
const std::string kLabel63(63, 'b');

INSTANTIATE_TEST_SUITE_P(
    Table, GoodPathTest,
    ::testing::Values(
        GoodPath{"<user@example.com>", F, "user", "example.com"},
        GoodPath{"<User.Name+tag@Example.COM>", F, "User.Name+tag", "example.com"},
        GoodPath{"<>", R, "", ""}, GoodPath{"<\"john doe\"@x.org>", F, "john doe", "x.org"},
        GoodPath{"<\"user@other\"@local.example>", F, "user@other", "local.example"},
        GoodPath{"<\"a\\\"b\"@x.example>", F, "a\"b", "x.example"},
        GoodPath{"<\"back\\\\slash\"@x.example>", F, "back\\slash", "x.example"},
        GoodPath{"<\"plain\"@x.example>", F, "plain", "x.example"},
        GoodPath{"<\"\"@x.example>", F, "", "x.example"},
        GoodPath{"<\"a>b\"@x.example>", F, "a>b", "x.example"},
        GoodPath{"<user%other@local>", F, "user%other", "local"},
        GoodPath{"<!#$&'*+-/=?^_`{|}~@x.example>", F, "!#$&'*+-/=?^_`{|}~", "x.example"},
        GoodPath{"<@a.example,@b.example:user@dom.example>", F, "user", "dom.example"},
        GoodPath{"<@relay.example:user@dom.example>", R, "user", "dom.example"},
        GoodPath{"<user@[1.2.3.4]>", F, "user", "[1.2.3.4]", true},
        GoodPath{"<user@[001.002.003.004]>", F, "user", "[001.002.003.004]", true},
        GoodPath{"<user@[IPv6:2001:DB8::1]>", F, "user", "[IPv6:2001:db8::1]", true},
        GoodPath{"<user@[ipv6:::ffff:192.0.2.1]>", F, "user", "[IPv6:::ffff:192.0.2.1]", true},
        GoodPath{"<user@localhost>", F, "user", "localhost"},
        GoodPath{"<user@123.example>", F, "user", "123.example"},
        GoodPath{"<user@b\xC3\xBC"
                 "cher.example>",
                 F, "user", "xn--bcher-kva.example", false, true},
        GoodPath{"<user@B\xC3\x9C"
                 "CHER.Example>",
                 F, "user", "xn--bcher-kva.example", false, true},
        GoodPath{"<user@xn--bcher-kva.example>", F, "user", "xn--bcher-kva.example"},
        GoodPath{"<\xC3\xBCser@example.com>", F, "\xC3\xBCser", "example.com", false, true},
        GoodPath{"<\"\xE6\x97\xA5 \xE6\x9C\xAC\"@example.com>", F, "\xE6\x97\xA5 \xE6\x9C\xAC",
                 "example.com", false, true},
        GoodPath{"<\xF0\x9F\x93\xA7@example.com>", F, "\xF0\x9F\x93\xA7", "example.com", false,
                 true},
        GoodPath{"<postmaster>", F, "postmaster", ""},
        GoodPath{"<PostMaster>", F, "postmaster", ""},
        GoodPath{"<" + k64 + "@x.example>", F, k64, "x.example"},
        GoodPath{"<a@" + kLabel63 + ".example>", F, "a", kLabel63 + ".example"}));

struct BadPath {
  std::string path;
  PathKind kind;
  int code;
  std::string enhanced;
};

class BadPathTest : public ::testing::TestWithParam<BadPath> {};

TEST_P(BadPathTest, IsRefusedWithAReadyReply) {
  const BadPath& c = GetParam();
  PathResult r = parse_path(c.path, c.kind);
  ASSERT_FALSE(r.ok) << c.path << " parsed as " << r.value.local << " @ " << r.value.domain;
  EXPECT_EQ(r.error.code, c.code) << c.path << " " << r.error.wire();
  EXPECT_EQ(r.error.enhanced, c.enhanced) << c.path;
  ASSERT_EQ(r.error.lines.size(), 1u);
  EXPECT_FALSE(r.error.lines[0].empty());
}

// `labels` labels "abc" then "x": 63 labels make a 253-octet domain and a 257-octet path.
std::string long_domain(size_t labels) {
  std::string d;
  for (size_t i = 0; i < labels; ++i) {
    d += "abc.";
  }
  return d + "x";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadPathTest,
    ::testing::Values(
        BadPath{"user@example.com", F, 501, "5.1.3"}, BadPath{"user@example.com", R, 501, "5.1.7"},
        BadPath{"<user@example.com", F, 501, "5.1.3"},
        BadPath{"<user@example.com> ", F, 501, "5.1.3"},
        BadPath{" <user@example.com>", F, 501, "5.1.3"}, BadPath{"<>", F, 501, "5.1.3"},
        BadPath{"<user@example.com.>", F, 501, "5.1.3"},
        BadPath{"<user@example.com.>", R, 501, "5.1.7"},
        BadPath{"<user@.example.com>", F, 501, "5.1.3"}, BadPath{"<user@ex..com>", F, 501, "5.1.3"},
        BadPath{"<user@-ex.com>", F, 501, "5.1.3"}, BadPath{"<user@ex-.com>", F, 501, "5.1.3"},
        BadPath{"<user@ex_ample.com>", F, 501, "5.1.3"},
        BadPath{"<user@ex ample.com>", F, 501, "5.1.3"}, BadPath{"<user@>", F, 501, "5.1.3"},
        BadPath{"<user>", F, 501, "5.1.3"}, BadPath{"<@example.com>", F, 501, "5.1.3"},
        BadPath{"<user @example.com>", F, 501, "5.1.3"},
        BadPath{"<.user@x.example>", F, 501, "5.1.3"},
        BadPath{"<user.@x.example>", F, 501, "5.1.3"},
        BadPath{"<us..er@x.example>", F, 501, "5.1.3"},
        BadPath{"<us(er@x.example>", F, 501, "5.1.3"},
        BadPath{"<\"open@x.example>", F, 501, "5.1.3"},
        BadPath{"<\"a\tb\"@x.example>", F, 501, "5.1.3"},
        BadPath{"<\"a\"b@x.example>", F, 501, "5.1.3"}, BadPath{"<a@b@x.example>", F, 501, "5.1.3"},
        BadPath{"<postmaster>", R, 501, "5.1.7"}, BadPath{"<\"postmaster\">", F, 501, "5.1.3"},
        BadPath{"<@a..b:user@d.example>", F, 501, "5.1.3"},
        BadPath{"<@a.example,user@d.example>", F, 501, "5.1.3"},
        BadPath{"<@a.example:>", F, 501, "5.1.3"}, BadPath{"<user@[300.1.1.1]>", F, 501, "5.1.3"},
        BadPath{"<user@[1.2.3]>", F, 501, "5.1.3"}, BadPath{"<user@[1.2.3.4.5]>", F, 501, "5.1.3"},
        BadPath{"<user@[1.2.3.4]x>", F, 501, "5.1.3"},
        BadPath{"<user@[tag:content]>", F, 501, "5.1.3"},
        BadPath{"<user@[IPv6:zz::1]>", F, 501, "5.1.3"},
        BadPath{"<user@[IPv6:1.2.3.4]>", F, 501, "5.1.3"},
        BadPath{"<user@[1.2.3.4>", F, 501, "5.1.3"},
        BadPath{"<\xC3(@x.example>", F, 501, "5.1.3"},         // truncated sequence
        BadPath{"<\xC0\xAF@x.example>", F, 501, "5.1.3"},      // overlong '/'
        BadPath{"<\xED\xA0\x80@x.example>", F, 501, "5.1.3"},  // UTF-16 surrogate
        BadPath{"<a@b\xC3\xBC"
                "cher.example.>",
                F, 501, "5.1.3"},
        BadPath{"<a@\xE2\x98\x83_x.example>", F, 501, "5.1.3"},  // '_' beside a U-label
        BadPath{"<a@\xFF.example>", F, 501, "5.1.3"},
        BadPath{"<" + std::string(65, 'a') + "@x.example>", F, 553, "5.1.3"},
        BadPath{"<\"" + std::string(63, 'a') + "\"@x.example>", F, 553, "5.1.3"},
        BadPath{"<a@" + std::string(64, 'b') + ".example>", F, 501, "5.1.3"},
        BadPath{"<a@" + long_domain(63) + ">", F, 501, "5.1.3"},  // path 257 octets
        BadPath{"<a@" + long_domain(64) + ">", F, 553, "5.1.3"},  // domain 257 octets
        BadPath{"<user@example.com>>", F, 501, "5.1.3"}));

TEST(PathLimits, PathOf256OctetsIsAcceptedAnd257IsNot) {
  // "<a@" + 252-octet domain + ">" is exactly 256 octets (RFC 5321 §4.5.3.1.3).
  std::string d252 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                     std::string(63, 'c') + "." + std::string(60, 'd');
  ASSERT_EQ(d252.size(), 252u);
  std::string path = "<a@" + d252 + ">";
  ASSERT_EQ(path.size(), 256u);
  EXPECT_TRUE(parse_path(path, PathKind::Forward).ok);
  PathResult r = parse_path("<ab@" + d252 + ">", PathKind::Forward);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, 501);
  EXPECT_NE(r.error.lines[0].find("too long"), std::string::npos);
}

TEST(PathPrefix, StopsAfterTheClosingBracket) {
  size_t used = 0;
  PathResult r = parse_path_prefix("<\"a b\"@x.example> SIZE=10", PathKind::Reverse, used);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(used, 17u);
  EXPECT_EQ(r.value.local, "a b");
  r = parse_path_prefix("<> BODY=8BITMIME", PathKind::Reverse, used);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(used, 2u);
  EXPECT_TRUE(r.value.is_null());
}

struct StrCase {
  std::string local;
  std::string domain;
  std::string expected;
};

TEST(AddressStr, QuotesTheLocalPartOnlyWhenNeeded) {
  const StrCase cases[] = {
      {"user", "x.example", "user@x.example"},
      {"first.last", "x.example", "first.last@x.example"},
      {"john doe", "x.example", "\"john doe\"@x.example"},
      {"a\"b", "x.example", "\"a\\\"b\"@x.example"},
      {"back\\slash", "x.example", "\"back\\\\slash\"@x.example"},
      {"user@other", "x.example", "\"user@other\"@x.example"},
      {".dot", "x.example", "\".dot\"@x.example"},
      {"dot.", "x.example", "\"dot.\"@x.example"},
      {"a..b", "x.example", "\"a..b\"@x.example"},
      {"", "x.example", "\"\"@x.example"},
      {"\xC3\xBCser", "x.example", "\xC3\xBCser@x.example"},
      {"postmaster", "", "postmaster"},
      {"", "", ""},
  };
  for (const StrCase& c : cases) {
    Address a;
    a.local = c.local;
    a.domain = c.domain;
    EXPECT_EQ(a.str(), c.expected) << c.local;
  }
}

TEST(AddressIsNull, OnlyForTheEmptyPath) {
  EXPECT_TRUE(parse_path("<>", PathKind::Reverse).value.is_null());
  EXPECT_FALSE(parse_path("<postmaster>", PathKind::Forward).value.is_null());
  EXPECT_FALSE(parse_path("<\"\"@x.example>", PathKind::Forward).value.is_null());
}

TEST(NormalizeDomain, LowerCaseAndALabels) {
  const std::pair<std::string, std::string> cases[] = {
      {"Example.COM", "example.com"},
      {"b\xC3\xBC"
       "cher.example",
       "xn--bcher-kva.example"},
      {"B\xC3\x9C"
       "CHER.EXAMPLE",
       "xn--bcher-kva.example"},
      {"xn--bcher-kva.example", "xn--bcher-kva.example"},
      {"\xE4\xBE\x8B\xE3\x81\x88.\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88", "xn--r8jz45g.xn--zckzah"},
      {"localhost", "localhost"},
      {"example.com.", ""},
      {"", ""},
      {".", ""},
      {"[1.2.3.4]", ""},
      {"a..b", ""},
      {"ex_ample.com", ""},
      {"-a.example", ""},
      {std::string(64, 'a') + ".example", ""},
      {"\xC3(.example", ""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(normalize_domain(in), out) << in;
  }
}

TEST(NormalizeAddressLiteral, Ipv4AndIpv6Only) {
  const std::pair<std::string, std::string> cases[] = {
      {"192.0.2.1", "[192.0.2.1]"},
      {"IPv6:2001:DB8::1", "[IPv6:2001:db8::1]"},
      {"ipv6:::1", "[IPv6:::1]"},
      {"IPv6:::ffff:192.0.2.1", "[IPv6:::ffff:192.0.2.1]"},
      {"256.0.0.1", ""},
      {"1.2.3", ""},
      {"1.2.3.4.", ""},
      {"1234.1.1.1", ""},
      {"IPv6:", ""},
      {"IPv6:1:2:3:4:5:6:7:8:9", ""},
      {"IPv4:1.2.3.4", ""},
      {"tag:content", ""},
      {"", ""},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(normalize_address_literal(in), out) << in;
  }
}

}  // namespace
}  // namespace hk::smtp
