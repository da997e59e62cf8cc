// mx.hpp: RFC 5321 §5.1 ordering with random order among equal preferences, and the plan
// (MX, implicit MX, null MX, permanent or transient failure) for each kind of answer.
#include "lib/dns/mx.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "lib/dns/error.hpp"

namespace hk::dns {
namespace {

using Hosts = std::vector<std::string>;

TEST(MxOrderTest, SortsByPreference) {
  struct Case {
    const char* name;
    std::vector<MxRecord> records;
    Hosts want;
  };
  const Case cases[] = {
      {"empty", {}, {}},
      {"one", {{5, "a.test"}}, {"a.test"}},
      {"sorted", {{10, "a.test"}, {20, "b.test"}}, {"a.test", "b.test"}},
      {"reversed",
       {{30, "c.test"}, {20, "b.test"}, {10, "a.test"}},
       {"a.test", "b.test", "c.test"}},
      {"null entry skipped", {{0, ""}, {10, "a.test"}}, {"a.test"}},
      {"dot entry skipped", {{0, "."}, {10, "a.test"}}, {"a.test"}},
      {"only null", {{0, ""}}, {}},
      {"duplicate kept at best preference",
       {{20, "A.test"}, {10, "b.test"}, {5, "a.test."}},
       {"a.test.", "b.test"}},
      {"preference 0 and 65535", {{65535, "z.test"}, {0, "a.test"}}, {"a.test", "z.test"}},
  };
  for (const Case& c : cases) {
    std::mt19937 rng(1);
    EXPECT_EQ(mx_order(c.records, rng), c.want) << c.name;
  }
}

TEST(MxOrderTest, EqualPreferencesComeInEveryOrder) {
  const std::vector<MxRecord> records = {
      {10, "first.test"}, {20, "b1.test"}, {20, "b2.test"}, {20, "b3.test"}, {30, "last.test"}};
  std::set<Hosts> middles;
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    Hosts order = mx_order(records, rng);
    ASSERT_EQ(order.size(), 5U);
    EXPECT_EQ(order.front(), "first.test");
    EXPECT_EQ(order.back(), "last.test");
    Hosts middle(order.begin() + 1, order.end() - 1);
    Hosts sorted = middle;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (Hosts{"b1.test", "b2.test", "b3.test"}));
    middles.insert(middle);
  }
  EXPECT_EQ(middles.size(), 6U);  // all 3! orders show up
}

TEST(MxOrderTest, SameSeedSameOrder) {
  const std::vector<MxRecord> records = {
      {10, "a.test"}, {10, "b.test"}, {10, "c.test"}, {10, "d.test"}};
  std::mt19937 one(99);
  std::mt19937 two(99);
  EXPECT_EQ(mx_order(records, one), mx_order(records, two));
}

Answer<MxRecord> answer(Error e) {
  Answer<MxRecord> a;
  a.ec = e;
  return a;
}

Answer<MxRecord> answer(std::vector<MxRecord> records) {
  Answer<MxRecord> a;
  a.records = std::move(records);
  a.ttl = 300;
  return a;
}

TEST(MxPlanTest, DecidesFromTheAnswer) {
  struct Case {
    const char* name;
    Answer<MxRecord> answer;
    MxPlan want;
    Hosts hosts;
  };
  const Case cases[] = {
      {"mx records", answer({{10, "mx1.example.test"}}), MxPlan::UseMx, {"mx1.example.test"}},
      {"nodata: implicit mx", answer(Error::NoData), MxPlan::ImplicitMx, {"example.test"}},
      {"no records: implicit mx",
       answer(std::vector<MxRecord>{}),
       MxPlan::ImplicitMx,
       {"example.test"}},
      {"null mx, empty host", answer({{0, ""}}), MxPlan::NullMx, {}},
      {"null mx, dot", answer({{0, "."}}), MxPlan::NullMx, {}},
      {"null mx with preference 10", answer({{10, ""}}), MxPlan::NullMx, {}},
      {"null mx beside a real one", answer({{0, ""}, {10, "mx.test"}}), MxPlan::UseMx, {"mx.test"}},
      {"nxdomain", answer(Error::NxDomain), MxPlan::PermanentError, {}},
      {"bad name", answer(Error::BadName), MxPlan::PermanentError, {}},
      {"servfail", answer(Error::ServFail), MxPlan::TransientError, {}},
      {"timeout", answer(Error::Timeout), MxPlan::TransientError, {}},
      {"refused", answer(Error::Refused), MxPlan::TransientError, {}},
      {"unreachable", answer(Error::Unreachable), MxPlan::TransientError, {}},
      {"bad response", answer(Error::BadResponse), MxPlan::TransientError, {}},
      {"cancelled", answer(Error::Cancelled), MxPlan::TransientError, {}},
      {"failed", answer(Error::Failed), MxPlan::TransientError, {}},
  };
  for (const Case& c : cases) {
    std::mt19937 rng(3);
    EXPECT_EQ(mx_plan(c.answer), c.want) << c.name;
    MxTargets t = mx_targets(c.answer, "example.test", rng);
    EXPECT_EQ(t.plan, c.want) << c.name;
    EXPECT_EQ(t.hosts, c.hosts) << c.name;
  }
}

TEST(ErrorTest, CategoryAndMessages) {
  boost::system::error_code ec = Error::NxDomain;
  EXPECT_STREQ(ec.category().name(), "hk::dns::error");
  EXPECT_EQ(ec.message(), "domain does not exist (NXDOMAIN)");
  EXPECT_TRUE(is_permanent(ec));
  EXPECT_FALSE(is_permanent(Error::ServFail));
  EXPECT_FALSE(is_permanent(boost::system::error_code{}));
}

}  // namespace
}  // namespace hk::dns
