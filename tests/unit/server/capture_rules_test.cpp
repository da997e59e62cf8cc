// Capture mode's rules: the [capture] deliver allow list and failure injection by address.
#include "daemon/server/capture_rules.hpp"

#include <gtest/gtest.h>

namespace hk::server {
namespace {

using namespace std::chrono_literals;
using Outcome = Injection::Outcome;

TEST(CaptureRules, DeliverAllowList) {
  const std::vector<std::string> patterns = {"*@real.test", "*@*.corp.test", "ops@team.test"};
  const struct {
    const char* address;
    bool allowed;
  } cases[] = {
      {"anyone@real.test", true},
      {"Anyone@REAL.test", true},  // case-insensitive, both parts
      {"x@sub.real.test", false},  // *@domain is the domain only
      {"x@notreal.test", false},
      {"x@a.corp.test", true},  // *@*.domain: its subdomains at any depth
      {"x@a.b.corp.test", true},
      {"x@corp.test", false},  // ... not the domain itself
      {"x@xcorp.test", false},
      {"ops@team.test", true},
      {"OPS@Team.Test", true},
      {"ops2@team.test", false},
      {"dev@team.test", false},
      {"ops@team.test.evil", false},
      {"", false},
      {"no-at-sign", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(deliver_allowed(patterns, c.address), c.allowed) << c.address;
  }
  EXPECT_FALSE(deliver_allowed({}, "anyone@real.test"));
}

TEST(CaptureRules, InjectionAtRcpt) {
  const struct {
    const char* address;
    Outcome outcome;
    std::chrono::seconds delay;
    const char* name;
  } cases[] = {
      {"fail-550@example.com", Outcome::Fail550, 0s, "fail-550"},
      {"FAIL-550@example.com", Outcome::Fail550, 0s, "fail-550"},
      {"defer-451@example.com", Outcome::Defer451, 0s, "defer-451"},
      {"slow-2s@example.com", Outcome::None, 2s, "slow-2s"},
      {"slow-30s@example.com", Outcome::None, 30s, "slow-30s"},
      {"slow-300s@example.com", Outcome::None, 300s, "slow-300s"},
      {"slow-301s@example.com", Outcome::None, 300s, "slow-301s"},  // capped
      {"slow-99999999999999999999s@x.test", Outcome::None, 300s, "slow-99999999999999999999s"},
      {"slow-007s@example.com", Outcome::None, 7s, "slow-007s"},
  };
  for (const auto& c : cases) {
    Injection i = find_injection(c.address);
    EXPECT_EQ(i.outcome, c.outcome) << c.address;
    EXPECT_EQ(i.delay, c.delay) << c.address;
    EXPECT_FALSE(i.at_dot) << c.address;
    EXPECT_EQ(i.name, c.name) << c.address;
    EXPECT_TRUE(i.any()) << c.address;
  }
}

TEST(CaptureRules, OrdinaryAddressesInjectNothing) {
  for (const char* a :
       {"bob@example.com", "fail-551@example.com", "fail-5500@example.com", "xfail-550@example.com",
        "slow-0s@example.com", "slow-s@example.com", "slow-2@example.com", "slow-2m@example.com",
        "slow--2s@example.com", "slow-2s2s@example.com", "slow-+2s@example.com",
        "bob+tag@example.com", "bob+@example.com", "", "fail-550+x@example.com"}) {
    Injection i = find_injection(a);
    EXPECT_FALSE(i.any()) << a;
    EXPECT_FALSE(i.at_dot) << a;
    EXPECT_EQ(i.name, "") << a;
  }
}

TEST(CaptureRules, PlusTagInjectsAtTheDot) {
  Injection i = find_injection("bob+fail-550@example.com");
  EXPECT_EQ(i.outcome, Outcome::Fail550);
  EXPECT_TRUE(i.at_dot);
  i = find_injection("bob+Defer-451@example.com");
  EXPECT_EQ(i.outcome, Outcome::Defer451);
  EXPECT_TRUE(i.at_dot);
  i = find_injection("a+b+slow-3s@example.com");  // the last tag counts
  EXPECT_EQ(i.delay, 3s);
  EXPECT_TRUE(i.at_dot);
  i = find_injection("a+slow-3s+b@example.com");
  EXPECT_FALSE(i.any());
}

TEST(CaptureRules, InjectionAtDotCombinesTheTags) {
  EXPECT_FALSE(injection_at_dot({}).any());
  // Whole-local-part injections happened at RCPT already; they do not come back at the dot.
  EXPECT_FALSE(injection_at_dot({"fail-550@x.test", "slow-5s@x.test", "bob@x.test"}).any());

  Injection i = injection_at_dot({"a+slow-2s@x.test", "b+slow-5s@x.test", "c@x.test"});
  EXPECT_EQ(i.outcome, Outcome::None);
  EXPECT_EQ(i.delay, 5s);
  EXPECT_EQ(i.name, "slow-2s,slow-5s");

  i = injection_at_dot({"a+defer-451@x.test", "b+fail-550@x.test", "c+defer-451@x.test"});
  EXPECT_EQ(i.outcome, Outcome::Fail550);  // a permanent failure wins
  EXPECT_EQ(i.name, "defer-451,fail-550");

  i = injection_at_dot({"a+slow-1s@x.test", "b+defer-451@x.test"});
  EXPECT_EQ(i.outcome, Outcome::Defer451);
  EXPECT_EQ(i.delay, 1s);
}

TEST(CaptureRules, InjectedReplies) {
  Injection fail;
  fail.outcome = Outcome::Fail550;
  smtp::Reply r = injected_reply(fail);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  Injection defer;
  defer.outcome = Outcome::Defer451;
  r = injected_reply(defer);
  EXPECT_EQ(r.code, 451);
  EXPECT_EQ(r.enhanced, "4.3.0");
  EXPECT_FALSE(r.close);
}

}  // namespace
}  // namespace hk::server
