// Tests for the pure MTA-STS functions (RFC 8461): TXT records, policy files (the RFC's examples
// and broken ones), MX patterns, the cache file format and the fetch decision.
#include "lib/mta_sts/mta_sts_policy.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace hk::delivery::sts {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

TEST(StsTxt, Records) {
  const struct {
    const char* record;
    std::optional<std::string> id;
  } cases[] = {
      // RFC 8461 §3.1's example.
      {"v=STSv1; id=20160831085700Z;", "20160831085700Z"},
      {"v=STSv1; id=20160831085700Z", "20160831085700Z"},
      {"v=STSv1;id=abc123", "abc123"},
      {"v=STSv1 ;\tid=abc ; ", "abc"},
      {"v=STSv1; ext=value; id=X1", "X1"},
      {"v=STSv1; id=12345678901234567890123456789012", "12345678901234567890123456789012"},
      // Broken: wrong or missing version, bad id, no id, two ids, bad extension.
      {"v=STSv2; id=1", std::nullopt},
      {"V=STSv1; id=1", std::nullopt},
      {"id=1; v=STSv1", std::nullopt},
      {"v=STSv1", std::nullopt},
      {"v=STSv1;", std::nullopt},
      {"v=STSv1; id=", std::nullopt},
      {"v=STSv1; id=123456789012345678901234567890123", std::nullopt},
      {"v=STSv1; id=abc-def", std::nullopt},
      {"v=STSv1; id=1; id=2", std::nullopt},
      {"v=STSv1; ; id=1", std::nullopt},
      {"v=STSv1 id=1", std::nullopt},
      {"v=STSv1; _bad=1; id=1", std::nullopt},
      {"v=STSv1; ext=; id=1", std::nullopt},
      {"", std::nullopt},
      // Pinned details: WSP (not CR/LF) around ";", nothing around "=", extensions may repeat
      // (and "v" may reappear as one), names are sts-ext-name, values sts-ext-value.
      {"v=STSv1; v=STSv1; id=1", "1"},
      {"v=STSv1; ext=a; ext=b; id=1", "1"},
      {"v=STSv1; e.x-t_1=v; id=1 ", "1"},
      {"v=STSv1; 1ext=v; id=1", "1"},
      {"v=STSv1; abcdefghijklmnopqrstuvwxyz012345=v; id=1", "1"},
      {"v=STSv1; abcdefghijklmnopqrstuvwxyz0123456=v; id=1", std::nullopt},
      {"v=STSv1; id=1;;", std::nullopt},
      {"v=STSv1;\r\nid=1", std::nullopt},
      {"v=STSv1; id =1", std::nullopt},
      {"v=STSv1; id= 1", std::nullopt},
      {"v=STSv1; ext=a=b; id=1", std::nullopt},
      {"v=STSv1; ext=a b; id=1", std::nullopt},
      {"v=STSv1; ext=\x7f; id=1", std::nullopt},
      {"v=STSv1; =x; id=1", std::nullopt},
      {"v=STSv1; noequals; id=1", std::nullopt},
      {" v=STSv1; id=1", std::nullopt},
      {"v=STSv1x; id=1", std::nullopt},
      {"v =STSv1; id=1", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_txt_record(c.record), c.id) << c.record;
  }
}

TEST(StsTxt, ExactlyOneStsRecord) {
  EXPECT_EQ(txt_id({"v=spf1 -all", "v=STSv1; id=a1"}), "a1");
  EXPECT_EQ(txt_id({"v=STSv1; id=a1", "v=STSv1; id=a2"}), std::nullopt);  // §3.1: not one
  EXPECT_EQ(txt_id({"v=STSv10; id=a1"}), std::nullopt);
  EXPECT_EQ(txt_id({}), std::nullopt);
  EXPECT_EQ(txt_id({"v=STSv1; id=bad!"}), std::nullopt);
}

TEST(StsPolicy, Table) {
  const struct {
    std::string body;
    std::optional<Policy> want;
  } cases[] = {
      // RFC 8461 §3.2's example, CRLF.
      {"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
       "mx: backupmx.example.com\r\nmax_age: 604800\r\n",
       Policy{
           Mode::Enforce, {"mail.example.com", "*.example.net", "backupmx.example.com"}, 604800}},
      // LF, no trailing newline, whitespace after the colon and at the end, unknown keys.
      {"version: STSv1\nmode:testing\nmx:\tMX.Example.COM. \nfoo: bar\nmax_age: 86400",
       Policy{Mode::Testing, {"mx.example.com"}, 86400}},
      // Mode none needs no mx.
      {"version: STSv1\nmode: none\nmax_age: 0\n", Policy{Mode::None, {}, 0}},
      // max_age above the maximum is clamped to it (§3.2).
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 9999999999\n",
       Policy{Mode::Enforce, {"a.example"}, kMaxAge}},
      // Blank lines are tolerated.
      {"\nversion: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n\n",
       Policy{Mode::Enforce, {"a.example"}, 1}},
      // Broken.
      {"", std::nullopt},
      {"mode: enforce\nmx: a.example\nmax_age: 1\n", std::nullopt},                  // no version
      {"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", std::nullopt},  // version
      {"version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", std::nullopt},  // case
      {"version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmx: a.example\nmax_age: 1\n", std::nullopt},     // no mode
      {"version: STSv1\nmode: enforce\nmax_age: 1\n", std::nullopt},     // no mx
      {"version: STSv1\nmode: enforce\nmx: a.example\n", std::nullopt},  // no max_age
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1d\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age:\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: a.example/x\nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx: \nmax_age: 1\n", std::nullopt},
      {"version: STSv1\nmode: enforce\nmx a.example\nmax_age: 1\n", std::nullopt},  // no colon
      {"<html><body>Not found</body></html>", std::nullopt},
      {std::string("version: STSv1\nmode: enforce\nmx: a\0b.example\nmax_age: 1\n"sv),
       std::nullopt},
  };
  for (const auto& c : cases) {
    std::optional<Policy> got = parse_policy(c.body);
    EXPECT_EQ(got.has_value(), c.want.has_value()) << c.body;
    if (got && c.want) {
      EXPECT_EQ(*got, *c.want) << c.body;
    }
  }
}

TEST(StsMx, Patterns) {
  const struct {
    const char* pattern;
    const char* host;
    bool match;
  } cases[] = {
      {"mail.example.com", "mail.example.com", true},
      {"mail.example.com", "MAIL.Example.com.", true},
      {"mail.example.com", "mail2.example.com", false},
      // §4.1: "*.example.com" matches exactly one label.
      {"*.example.com", "mx1.example.com", true},
      {"*.example.com", "MX1.EXAMPLE.COM.", true},
      {"*.example.com", "example.com", false},
      {"*.example.com", "a.b.example.com", false},
      {"*.example.com", ".example.com", false},
      {"*.example.com", "mx1.example.net", false},
      {"*.example.com", "mx1.badexample.com", false},
      {"mail.example.com", "", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(mx_matches(c.pattern, c.host), c.match) << c.pattern << " " << c.host;
  }
  Policy p{Mode::Enforce, {"mail.example.com", "*.example.net"}, 1};
  EXPECT_TRUE(mx_allowed(p, "x.example.net"));
  EXPECT_TRUE(mx_allowed(p, "mail.example.com"));
  EXPECT_FALSE(mx_allowed(p, "mail.example.org"));
}

TEST(StsCacheFile, RoundTripAndRejects) {
  CachedPolicy c;
  c.body = "version: STSv1\r\nmode: enforce\r\nmx: *.example.com\r\nmax_age: 3600\r\n";
  c.policy = *parse_policy(c.body);
  c.id = "abc1";
  c.fetched = TimePoint(1700000000s);
  std::optional<CachedPolicy> back = deserialize(serialize(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->policy, c.policy);
  EXPECT_EQ(back->id, "abc1");
  EXPECT_EQ(back->fetched, c.fetched);
  EXPECT_EQ(back->body, c.body);
  EXPECT_EQ(back->expires(), TimePoint(1700003600s));

  EXPECT_FALSE(deserialize(""));
  EXPECT_FALSE(deserialize("garbage"));
  EXPECT_FALSE(deserialize("hikyaku-mta-sts 1\nid bad id\nfetched 1\n\n" + c.body));
  EXPECT_FALSE(deserialize("hikyaku-mta-sts 1\nid a\nfetched x\n\n" + c.body));
  EXPECT_FALSE(deserialize("hikyaku-mta-sts 1\nid a\nfetched 1\n\nversion: STSv1\n"));
  // A time that system_clock cannot hold (a corrupt file) is refused, not converted with overflow.
  EXPECT_FALSE(deserialize("hikyaku-mta-sts 1\nid a\nfetched 7958928335399472132\n\n" + c.body));
  EXPECT_FALSE(deserialize("hikyaku-mta-sts 1\nid a\nfetched 9223372036\n\n" + c.body));
  EXPECT_TRUE(deserialize("hikyaku-mta-sts 1\nid a\nfetched 9000000000\n\n" + c.body));
  std::string s = serialize(c);
  EXPECT_FALSE(deserialize(s.substr(0, s.size() - 20)));  // a torn body no longer parses
}

TEST(StsDecide, Table) {
  const TimePoint t0(1700000000s);
  CachedPolicy c;
  c.policy = Policy{Mode::Enforce, {"mx.example.com"}, 3600};
  c.id = "one";
  c.fetched = t0;
  const std::optional<CachedPolicy> none;
  // No record, nothing cached: no policy.
  EXPECT_EQ(decide(none, std::nullopt, t0), Action::NoPolicy);
  // A record and nothing cached: fetch.
  EXPECT_EQ(decide(none, "one", t0), Action::Fetch);
  // Same id, unexpired: the cache, no fetch (§3.3).
  EXPECT_EQ(decide(c, "one", t0 + 10s), Action::UseCached);
  // Another id: fetch (§3.3).
  EXPECT_EQ(decide(c, "two", t0 + 10s), Action::Fetch);
  // The record is gone (or DNS failed): the unexpired cached policy stays in force (§5.1).
  EXPECT_EQ(decide(c, std::nullopt, t0 + 3599s), Action::UseCached);
  // Expired after max_age.
  EXPECT_EQ(decide(c, std::nullopt, t0 + 3600s), Action::NoPolicy);
  EXPECT_EQ(decide(c, "one", t0 + 3600s), Action::Fetch);
}

}  // namespace
}  // namespace hk::delivery::sts
