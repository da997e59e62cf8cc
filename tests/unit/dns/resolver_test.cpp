// Resolver and CachingResolver against real DNS servers on loopback: dnsmasq for the zone and
// fake_dns.py for SERVFAIL, REFUSED, null MX, exact TTLs and broken answers. Never the system
// resolver: every Resolver names its server.
#include "lib/dns/resolver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "lib/dns/caching_resolver.hpp"
#include "lib/dns/mx.hpp"
#include "options.hpp"
#include "tests/support/dns_servers.hpp"
#include "tests/support/run.hpp"

namespace hk::dns {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::ip::address;
using asio::ip::make_address;
using hk::test::run;
using test::options;

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::pair<int, std::string>> mx_pairs(const Answer<MxRecord>& a) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& r : a.records) {
    out.emplace_back(r.preference, r.host);
  }
  return sorted(out);
}

class DnsmasqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(dnsmasq_->port(), 0);
    resolver_.emplace(io_.get_executor(), options(dnsmasq_->server()));
  }

  std::optional<test::Dnsmasq> dnsmasq_{std::in_place};
  asio::io_context io_;
  std::optional<Resolver> resolver_;
};

// A reload: lookups after reconfigure() go to the new server; a server that cannot be used is
// refused and the working one kept; a lookup in flight on the old channel still gets its answer.
TEST_F(DnsmasqTest, ReconfigureSwitchesServers) {
  Resolver r(io_.get_executor(), options("127.0.0.1:9", 200ms, 1));  // nothing answers there
  auto before = run(io_, r.mx("example.test"));
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->ec);
  r.reconfigure(options(dnsmasq_->server()));
  auto after = run(io_, r.mx("example.test"));
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->ec) << after->ec.message();
  EXPECT_EQ(after->records.size(), 3U);
  EXPECT_THROW(r.reconfigure(options("not a server")), std::runtime_error);
  auto kept = run(io_, r.mx("example.test"));
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->ec) << kept->ec.message();

  std::optional<Answer<MxRecord>> in_flight;
  asio::co_spawn(io_, r.mx("example.test"),
                 [&](std::exception_ptr, Answer<MxRecord> a) { in_flight = std::move(a); });
  r.reconfigure(options("127.0.0.1:9", 200ms, 1));
  io_.restart();
  io_.run_for(5s);
  ASSERT_TRUE(in_flight);
  EXPECT_FALSE(in_flight->ec) << in_flight->ec.message();
}

TEST_F(DnsmasqTest, Mx) {
  auto a = run(io_, resolver_->mx("example.test"));
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec) << a->ec.message();
  EXPECT_EQ(mx_pairs(*a),
            (std::vector<std::pair<int, std::string>>{
                {10, "mx1.example.test"}, {20, "mx2.example.test"}, {20, "mx3.example.test"}}));
  EXPECT_EQ(a->ttl, 300U);
  std::mt19937 rng(5);
  MxTargets t = mx_targets(*a, "example.test", rng);
  EXPECT_EQ(t.plan, MxPlan::UseMx);
  ASSERT_EQ(t.hosts.size(), 3U);
  EXPECT_EQ(t.hosts[0], "mx1.example.test");
}

TEST_F(DnsmasqTest, NullMx) {
  auto a = run(io_, resolver_->mx("nullmx.example.test"));
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec) << a->ec.message();
  ASSERT_EQ(a->records.size(), 1U);
  EXPECT_EQ(a->records[0].host, "");
  EXPECT_EQ(mx_plan(*a), MxPlan::NullMx);
}

// c-ares 1.18 has no TLSA parser: a raw query and wire.cpp's parser (RFC 6698 §2.1).
TEST_F(DnsmasqTest, Tlsa) {
  auto a = run(io_, resolver_->tlsa("_25._tcp.mx1.example.test"));
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec) << a->ec.message();
  std::vector<TlsaRecord> got = a->records;
  std::sort(got.begin(), got.end(),
            [](const TlsaRecord& x, const TlsaRecord& y) { return x.usage < y.usage; });
  EXPECT_EQ(got, (std::vector<TlsaRecord>{{2, 0, 2, std::vector<unsigned char>(64, 0xBB)},
                                          {3, 1, 1, std::vector<unsigned char>(32, 0xAA)}}));
  EXPECT_EQ(a->ttl, 300U);

  auto nodata = run(io_, resolver_->tlsa("mx1.example.test"));
  ASSERT_TRUE(nodata);
  EXPECT_EQ(nodata->ec, Error::NoData) << nodata->ec.message();
  auto nx = run(io_, resolver_->tlsa("_25._tcp.nx.example.test"));
  ASSERT_TRUE(nx);
  EXPECT_EQ(nx->ec, Error::NxDomain) << nx->ec.message();
}

TEST_F(DnsmasqTest, AbsoluteNameWithTrailingDot) {
  auto a = run(io_, resolver_->mx("EXAMPLE.test."));
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec) << a->ec.message();
  EXPECT_EQ(a->records.size(), 3U);
}

TEST_F(DnsmasqTest, AddressLookups) {
  struct Case {
    const char* name;
    bool v6;
    std::vector<address> want;
  };
  const Case cases[] = {
      {"mx1.example.test", false, {make_address("127.0.0.10")}},
      {"mx1.example.test", true, {make_address("fd00::10")}},
      {"multi.example.test", false, {make_address("127.0.0.11"), make_address("127.0.0.12")}},
      {"alias.example.test", false, {make_address("127.0.0.10")}},  // through the CNAME
  };
  for (const Case& c : cases) {
    auto a = run(io_, c.v6 ? resolver_->aaaa(c.name) : resolver_->a(c.name));
    ASSERT_TRUE(a) << c.name;
    ASSERT_FALSE(a->ec) << c.name << ": " << a->ec.message();
    EXPECT_EQ(sorted(a->records), c.want) << c.name;
    EXPECT_GT(a->ttl, 0U) << c.name;
    EXPECT_LE(a->ttl, 300U) << c.name;
  }
}

TEST_F(DnsmasqTest, Txt) {
  struct Case {
    const char* name;
    std::vector<std::string> want;
  };
  std::string long_record;
  for (char c = 'a'; c < 'a' + 8; ++c) {
    long_record += std::string(250, c);
  }
  const Case cases[] = {
      {"example.test", {"v=spf1 -all"}},
      {"split.example.test", {"part one part two"}},  // one record, two strings, joined
      {"two.example.test", {"first", "second"}},      // two records
      {"long.example.test", {long_record}},  // 2000 octets: truncated over UDP, read over TCP
  };
  for (const Case& c : cases) {
    auto a = run(io_, resolver_->txt(c.name));
    ASSERT_TRUE(a) << c.name;
    ASSERT_FALSE(a->ec) << c.name << ": " << a->ec.message();
    EXPECT_EQ(sorted(a->records), c.want) << c.name;
    EXPECT_EQ(a->ttl, 300U) << c.name;
  }
}

TEST_F(DnsmasqTest, Ptr) {
  struct Case {
    const char* addr;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"127.0.0.10", {"mx1.example.test"}},
      {"127.0.0.21", {"ptr.example.test"}},
      {"127.0.0.22", {"one.example.test", "two.example.test"}},
      {"fd00::10", {"mx1.example.test"}},
  };
  for (const Case& c : cases) {
    auto a = run(io_, resolver_->ptr(make_address(c.addr)));
    ASSERT_TRUE(a) << c.addr;
    ASSERT_FALSE(a->ec) << c.addr << ": " << a->ec.message();
    EXPECT_EQ(sorted(a->records), c.want) << c.addr;
  }
}

TEST_F(DnsmasqTest, NxDomainAndNoData) {
  auto nx = run(io_, resolver_->mx("nx.example.test"));
  ASSERT_TRUE(nx);
  EXPECT_EQ(nx->ec, Error::NxDomain) << nx->ec.message();
  EXPECT_TRUE(nx->records.empty());
  EXPECT_EQ(mx_plan(*nx), MxPlan::PermanentError);

  auto nodata = run(io_, resolver_->mx("mx1.example.test"));
  ASSERT_TRUE(nodata);
  EXPECT_EQ(nodata->ec, Error::NoData) << nodata->ec.message();
  EXPECT_EQ(mx_plan(*nodata), MxPlan::ImplicitMx);

  auto no_aaaa = run(io_, resolver_->aaaa("mx2.example.test"));
  ASSERT_TRUE(no_aaaa);
  EXPECT_EQ(no_aaaa->ec, Error::NoData) << no_aaaa->ec.message();

  auto no_ptr = run(io_, resolver_->ptr(make_address("127.0.0.99")));
  ASSERT_TRUE(no_ptr);
  EXPECT_EQ(no_ptr->ec, Error::NxDomain) << no_ptr->ec.message();

  // Outside its --local domains dnsmasq, with no upstream, refuses.
  auto refused = run(io_, resolver_->ptr(make_address("192.0.2.1")));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->ec, Error::Refused) << refused->ec.message();
}

TEST_F(DnsmasqTest, BadNames) {
  auto nul = run(io_, resolver_->mx(std::string("exa\0mple.test", 13)));
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->ec, Error::BadName);
  // RFC 1035 §2.3.4: a label is at most 63 octets.
  auto long_label = run(io_, resolver_->a(std::string(64, 'a') + ".test"));
  ASSERT_TRUE(long_label);
  EXPECT_EQ(long_label->ec, Error::BadName) << long_label->ec.message();
}

// Each coroutine does its lookups one after the other; the coroutines run side by side, so the
// channel has one query of each in flight at once.
asio::awaitable<int> many_lookups(Resolver& r, int n, int seed) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    switch ((seed + i) % 3) {
      case 0: {
        Answer<MxRecord> a = co_await r.mx("example.test");
        ok += (!a.ec && a.records.size() == 3) ? 1 : 0;
        break;
      }
      case 1: {
        Answer<address> a = co_await r.a("multi.example.test");
        ok += (!a.ec && a.records.size() == 2) ? 1 : 0;
        break;
      }
      default: {
        Answer<std::string> a = co_await r.txt("two.example.test");
        ok += (!a.ec && a.records.size() == 2) ? 1 : 0;
        break;
      }
    }
  }
  co_return ok;
}

TEST_F(DnsmasqTest, ManyConcurrentQueries) {
  constexpr int kCoroutines = 100;
  constexpr int kEach = 3;
  int done = 0;
  int ok = 0;
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(io_, many_lookups(*resolver_, kEach, i),
                   [&done, &ok, this](std::exception_ptr e, int n) {
                     ok += e ? 0 : n;
                     if (++done == kCoroutines) {
                       io_.stop();
                     }
                   });
  }
  auto start = std::chrono::steady_clock::now();
  io_.run_for(20s);
  EXPECT_EQ(done, kCoroutines);
  EXPECT_EQ(ok, kCoroutines * kEach);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(DnsmasqTest, CachingResolverAnswersFromCacheUntilTtlRunsOut) {
  base::ManualClock clock(base::TimePoint() + 1000000s);
  CachingResolver cached(*resolver_, clock);
  auto first = run(io_, cached.mx("example.test"));
  ASSERT_TRUE(first);
  ASSERT_FALSE(first->ec) << first->ec.message();
  EXPECT_EQ(cached.cache().size(), 1U);

  // With the server gone, answers still come from the cache, their TTL counting down.
  dnsmasq_.reset();
  clock.advance(100s);
  auto second = run(io_, cached.mx("Example.Test."));
  ASSERT_TRUE(second);
  ASSERT_FALSE(second->ec);
  EXPECT_EQ(mx_pairs(*second), mx_pairs(*first));
  EXPECT_EQ(second->ttl, 200U);

  clock.advance(200s);  // expired: the Resolver is asked and nobody answers
  auto third = run(io_, cached.mx("example.test"));
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->ec);
}

TEST_F(DnsmasqTest, CachingResolverKeepsNegativeAnswersOnlyWithSoa) {
  base::ManualClock clock(base::TimePoint() + 1000000s);
  CachingResolver cached(*resolver_, clock);
  auto nx = run(io_, cached.mx("nx.example.test"));
  ASSERT_TRUE(nx);
  EXPECT_EQ(nx->ec, Error::NxDomain);
  // dnsmasq sends no SOA with a local NXDOMAIN, so RFC 2308 §5 says not to keep it.
  EXPECT_EQ(nx->ttl, 0U);
  EXPECT_EQ(cached.cache().size(), 0U);
}

class FakeDnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(fake_.port(), 0);
    resolver_.emplace(io_.get_executor(), options(fake_.server()));
  }

  test::FakeDns fake_;
  asio::io_context io_;
  std::optional<Resolver> resolver_;
};

TEST_F(FakeDnsTest, NullMx) {
  auto a = run(io_, resolver_->mx("nullmx.test"));
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec) << a->ec.message();
  ASSERT_EQ(a->records.size(), 1U);
  EXPECT_TRUE(is_null_mx(a->records[0])) << a->records[0].host;
  EXPECT_EQ(a->records[0].preference, 0);
  EXPECT_EQ(mx_plan(*a), MxPlan::NullMx);
}

TEST_F(FakeDnsTest, ErrorsAndTtls) {
  struct Case {
    const char* name;
    Error want;  // Error{} for success
    std::uint32_t ttl;
  };
  const Case cases[] = {
      {"servfail.test", Error::ServFail, 0},
      {"refused.test", Error::Refused, 0},
      {"garbage.test", Error::BadResponse, 0},
      {"ttl.test", Error{}, 120},             // the smaller of 300 and 120
      {"negttl.test", Error::NxDomain, 600},  // min(SOA TTL 900, MINIMUM 600)
      {"nodata.test", Error::NoData, 60},     // min(SOA TTL 60, MINIMUM 3600)
      {"other.test", Error::NxDomain, 0},     // no SOA: not to be cached
  };
  for (const Case& c : cases) {
    auto a = run(io_, resolver_->mx(c.name));
    ASSERT_TRUE(a) << c.name;
    if (c.want == Error{}) {
      EXPECT_FALSE(a->ec) << c.name << ": " << a->ec.message();
    } else {
      EXPECT_EQ(a->ec, c.want) << c.name << ": " << a->ec.message();
    }
    EXPECT_EQ(a->ttl, c.ttl) << c.name;
  }
  auto servfail = run(io_, resolver_->mx("servfail.test"));
  ASSERT_TRUE(servfail);
  EXPECT_EQ(mx_plan(*servfail), MxPlan::TransientError);

  auto txt = run(io_, resolver_->txt("ttl.test"));
  ASSERT_TRUE(txt);
  EXPECT_EQ(txt->records, std::vector<std::string>{"hello"});
  EXPECT_EQ(txt->ttl, 77U);
}

TEST_F(FakeDnsTest, TlsaErrors) {
  // A TLSA RDATA shorter than its three fixed octets is a broken answer, not an empty one.
  auto short_rdata = run(io_, resolver_->tlsa("shorttlsa.test"));
  ASSERT_TRUE(short_rdata);
  EXPECT_EQ(short_rdata->ec, Error::BadResponse) << short_rdata->ec.message();
  EXPECT_EQ(short_rdata->ttl, 0U);
  // Only a CNAME came back: NODATA, kept for the SOA's negative TTL (RFC 2308 §5).
  auto cname_only = run(io_, resolver_->tlsa("cnametlsa.test"));
  ASSERT_TRUE(cname_only);
  EXPECT_EQ(cname_only->ec, Error::NoData) << cname_only->ec.message();
  EXPECT_EQ(cname_only->ttl, 45U);
  auto servfail = run(io_, resolver_->tlsa("servfail.test"));
  ASSERT_TRUE(servfail);
  EXPECT_EQ(servfail->ec, Error::ServFail);
}

TEST_F(FakeDnsTest, ServfailIsNotCached) {
  base::ManualClock clock(base::TimePoint() + 1000000s);
  CachingResolver cached(*resolver_, clock);
  auto a = run(io_, cached.mx("servfail.test"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ec, Error::ServFail);
  auto nx = run(io_, cached.mx("negttl.test"));
  ASSERT_TRUE(nx);
  EXPECT_EQ(nx->ec, Error::NxDomain);
  EXPECT_EQ(cached.cache().size(), 1U);  // only the NXDOMAIN with its SOA
  clock.advance(599s);
  auto again = run(io_, cached.mx("negttl.test"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ec, Error::NxDomain);
  EXPECT_EQ(again->ttl, 1U);
}

}  // namespace
}  // namespace hk::dns
