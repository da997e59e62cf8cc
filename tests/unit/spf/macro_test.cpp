// Table tests of the SPF macro expander (RFC 7208 §7, examples of §7.4).
#include "lib/spf/macro.hpp"

#include <gtest/gtest.h>

namespace hk::spf {
namespace {

struct Case {
  const char* in;
  const char* out;  // nullptr: syntax error
};

MacroContext context(const char* ip) {
  MacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.domain = "email.example.com";
  c.ip = boost::asio::ip::make_address(ip);
  c.helo = "mx.example.org";
  c.receiver = "mx.local";
  c.timestamp = 1234;
  return c;
}

TEST(SpfMacro, Rfc7208Examples) {
  const Case cases[] = {
      {"%{s}", "strong-bad@email.example.com"},
      {"%{o}", "email.example.com"},
      {"%{d}", "email.example.com"},
      {"%{d4}", "email.example.com"},
      {"%{d3}", "email.example.com"},
      {"%{d2}", "example.com"},
      {"%{d1}", "com"},
      {"%{dr}", "com.example.email"},
      {"%{d2r}", "example.email"},
      {"%{l}", "strong-bad"},
      {"%{l-}", "strong.bad"},
      {"%{lr}", "strong-bad"},
      {"%{lr-}", "bad.strong"},
      {"%{l1r-}", "strong"},
      {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
      {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
      {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
      {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
      {"%%%_%-", "% %20"},
      {"%{h}", "mx.example.org"},
      {"%{p}", "unknown"},
      {"%{S}", "strong-bad%40email.example.com"},
      {"%{d0}", nullptr},
      {"%{x}", nullptr},
      {"%{c}", nullptr},  // c, r, t only in explanations
      {"%{r}", nullptr},
      {"%{t}", nullptr},
      {"%{d", nullptr},
      {"%x", nullptr},
      {"%", nullptr},
      {"a b", nullptr},
  };
  auto ctx = context("192.0.2.3");
  for (const Case& c : cases) {
    auto got = expand_macros(c.in, ctx, MacroMode::DomainSpec);
    if (c.out == nullptr) {
      EXPECT_FALSE(got.has_value()) << c.in;
    } else {
      ASSERT_TRUE(got.has_value()) << c.in;
      EXPECT_EQ(*got, c.out) << c.in;
    }
  }
}

TEST(SpfMacro, Explanation) {
  const Case cases[] = {
      {"%{c} is not %{r} at %{t}", "192.0.2.3 is not mx.local at 1234"},
      {"see %{d}", "see email.example.com"},
      {"caf\xc3\xa9", nullptr},
  };
  auto ctx = context("192.0.2.3");
  for (const Case& c : cases) {
    auto got = expand_macros(c.in, ctx, MacroMode::Explanation);
    if (c.out == nullptr) {
      EXPECT_FALSE(got.has_value()) << c.in;
    } else {
      ASSERT_TRUE(got.has_value()) << c.in;
      EXPECT_EQ(*got, c.out) << c.in;
    }
  }
}

TEST(SpfMacro, Ipv6) {
  auto ctx = context("2001:db8::cb01");
  EXPECT_EQ(*expand_macros("%{ir}.%{v}._spf.%{d2}", ctx, MacroMode::DomainSpec),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(*expand_macros("%{c}", ctx, MacroMode::Explanation), "2001:db8::cb01");
}

TEST(SpfMacro, LongDomainLosesLeftLabels) {
  auto ctx = context("192.0.2.3");
  ctx.domain = std::string(60, 'a') + "." + std::string(60, 'b') + ".example.com";
  auto got = expand_macros("%{d}.%{d}.%{d}", ctx, MacroMode::DomainSpec);
  ASSERT_TRUE(got.has_value());
  EXPECT_LE(got->size(), 253u);
  EXPECT_EQ(got->substr(got->size() - 11), "example.com");
}

}  // namespace
}  // namespace hk::spf
