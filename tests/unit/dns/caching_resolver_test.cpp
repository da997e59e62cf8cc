// CachingResolver over any dns::Lookup: a scripted upstream that counts its queries shows which
// lookups the cache answers, for every record type, with no network and a ManualClock.
#include "lib/dns/caching_resolver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <utility>
#include <variant>

#include "lib/dns/error.hpp"
#include "tests/support/run.hpp"

namespace hk::dns {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::ip::address;
using asio::ip::make_address;

const base::TimePoint kStart = base::TimePoint() + 1000000s;

// Answers what it was told to, NXDOMAIN without SOA (not cacheable) otherwise, and counts the
// queries per record type.
class ScriptedLookup final : public Lookup {
 public:
  template <class T>
  void set(RecordType type, const std::string& name, Answer<T> answer) {
    script_[{type, name}] = std::move(answer);
  }
  int calls(RecordType type) const {
    auto it = calls_.find(type);
    return it == calls_.end() ? 0 : it->second;
  }

  asio::awaitable<Answer<MxRecord>> mx(std::string name) override {
    co_return reply<MxRecord>(RecordType::Mx, name);
  }
  asio::awaitable<Answer<address>> a(std::string name) override {
    co_return reply<address>(RecordType::A, name);
  }
  asio::awaitable<Answer<address>> aaaa(std::string name) override {
    co_return reply<address>(RecordType::Aaaa, name);
  }
  asio::awaitable<Answer<std::string>> txt(std::string name) override {
    co_return reply<std::string>(RecordType::Txt, name);
  }
  asio::awaitable<Answer<std::string>> ptr(address addr) override {
    co_return reply<std::string>(RecordType::Ptr, addr.to_string());
  }
  asio::awaitable<Answer<TlsaRecord>> tlsa(std::string name) override {
    co_return reply<TlsaRecord>(RecordType::Tlsa, name);
  }

 private:
  using Scripted =
      std::variant<Answer<MxRecord>, Answer<address>, Answer<std::string>, Answer<TlsaRecord>>;

  template <class T>
  Answer<T> reply(RecordType type, const std::string& name) {
    ++calls_[type];
    auto it = script_.find({type, name});
    if (it == script_.end()) {
      Answer<T> nx;
      nx.ec = Error::NxDomain;
      return nx;
    }
    return std::get<Answer<T>>(it->second);
  }

  std::map<std::pair<RecordType, std::string>, Scripted> script_;
  std::map<RecordType, int> calls_;
};

template <class T>
Answer<T> positive(std::vector<T> records, std::uint32_t ttl) {
  Answer<T> a;
  a.records = std::move(records);
  a.ttl = ttl;
  return a;
}

template <class T = MxRecord>
Answer<T> failure(Error e, std::uint32_t ttl) {
  Answer<T> a;
  a.ec = e;
  a.ttl = ttl;
  return a;
}

// Asks `cached` three times through `method`: at once (the upstream answers), just before the TTL
// of 60 s runs out (the cache answers, with 1 s left) and when it has (the upstream again).
template <class T, class Arg>
void expect_kept_for_ttl(ScriptedLookup& upstream, RecordType type,
                         asio::awaitable<Answer<T>> (Lookup::*method)(Arg), Arg arg,
                         const std::vector<T>& want) {
  SCOPED_TRACE(static_cast<int>(type));
  asio::io_context io;
  base::ManualClock clock(kStart);
  CachingResolver cached(upstream, clock);
  auto first = hk::test::run(io, (cached.*method)(arg));
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->ec) << first->ec.message();
  EXPECT_EQ(first->records, want);
  EXPECT_EQ(first->ttl, 60U);
  EXPECT_EQ(upstream.calls(type), 1);

  clock.advance(59s);
  auto second = hk::test::run(io, (cached.*method)(arg));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->ec);
  EXPECT_EQ(second->records, want);
  EXPECT_EQ(second->ttl, 1U);
  EXPECT_EQ(upstream.calls(type), 1);

  clock.advance(1s);
  auto third = hk::test::run(io, (cached.*method)(arg));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->records, want);
  EXPECT_EQ(upstream.calls(type), 2);
}

TEST(CachingResolverTest, EveryRecordTypeIsKeptForItsTtl) {
  ScriptedLookup up;
  const std::vector<MxRecord> mx = {{10, "mx1.example.test"}};
  const std::vector<address> v4 = {make_address("192.0.2.1")};
  const std::vector<address> v6 = {make_address("2001:db8::1")};
  const std::vector<std::string> txt = {"v=spf1 -all"};
  const std::vector<std::string> ptr = {"host.example.test"};
  const std::vector<TlsaRecord> tlsa = {{3, 1, 1, std::vector<unsigned char>(32, 0xAB)}};
  up.set(RecordType::Mx, "example.test", positive(mx, 60));
  up.set(RecordType::A, "example.test", positive(v4, 60));
  up.set(RecordType::Aaaa, "example.test", positive(v6, 60));
  up.set(RecordType::Txt, "example.test", positive(txt, 60));
  up.set(RecordType::Ptr, "192.0.2.1", positive(ptr, 60));
  up.set(RecordType::Tlsa, "_25._tcp.example.test", positive(tlsa, 60));
  const std::string name = "example.test";
  expect_kept_for_ttl(up, RecordType::Mx, &Lookup::mx, name, mx);
  expect_kept_for_ttl(up, RecordType::A, &Lookup::a, name, v4);
  expect_kept_for_ttl(up, RecordType::Aaaa, &Lookup::aaaa, name, v6);
  expect_kept_for_ttl(up, RecordType::Txt, &Lookup::txt, name, txt);
  expect_kept_for_ttl(up, RecordType::Ptr, &Lookup::ptr, make_address("192.0.2.1"), ptr);
  expect_kept_for_ttl(up, RecordType::Tlsa, &Lookup::tlsa, std::string("_25._tcp.example.test"),
                      tlsa);
}

TEST(CachingResolverTest, PtrIsKeptUnderTheReverseName) {
  ScriptedLookup up;
  up.set(RecordType::Ptr, "192.0.2.1", positive<std::string>({"host.example.test"}, 60));
  asio::io_context io;
  base::ManualClock clock(kStart);
  CachingResolver cached(up, clock);
  ASSERT_TRUE(hk::test::run(io, cached.ptr(make_address("192.0.2.1"))));
  EXPECT_TRUE(cached.cache().get<std::string>(RecordType::Ptr, "1.2.0.192.in-addr.arpa", kStart));
}

// Cache semantics are Cache::put's (RFC 2308 §5): negative answers only with a TTL from an SOA,
// failures never.
TEST(CachingResolverTest, NegativeAnswersOnlyWithTtlFailuresNever) {
  struct Case {
    const char* name;
    Answer<MxRecord> answer;
    int calls_for_two_lookups;
  };
  const Case cases[] = {
      {"nxdomain with SOA", failure(Error::NxDomain, 600), 1},
      {"nodata with SOA", failure(Error::NoData, 60), 1},
      {"nxdomain without SOA", failure(Error::NxDomain, 0), 2},
      {"servfail", failure(Error::ServFail, 0), 2},
      {"timeout", failure(Error::Timeout, 0), 2},
  };
  for (const Case& c : cases) {
    ScriptedLookup up;
    up.set(RecordType::Mx, "example.test", c.answer);
    asio::io_context io;
    base::ManualClock clock(kStart);
    CachingResolver cached(up, clock);
    for (int i = 0; i < 2; ++i) {
      auto got = hk::test::run(io, cached.mx("example.test"));
      ASSERT_TRUE(got) << c.name;
      EXPECT_EQ(got->ec, c.answer.ec) << c.name;
    }
    EXPECT_EQ(up.calls(RecordType::Mx), c.calls_for_two_lookups) << c.name;
  }
}

TEST(CachingResolverTest, TypesAtOneNameAreKeptApart) {
  ScriptedLookup up;
  up.set(RecordType::A, "h.test", positive<address>({make_address("192.0.2.1")}, 60));
  up.set(RecordType::Aaaa, "h.test", positive<address>({make_address("2001:db8::1")}, 60));
  asio::io_context io;
  base::ManualClock clock(kStart);
  CachingResolver cached(up, clock);
  ASSERT_TRUE(hk::test::run(io, cached.a("h.test")));
  auto v6 = hk::test::run(io, cached.aaaa("h.test"));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->records, std::vector<address>{make_address("2001:db8::1")});
  EXPECT_EQ(up.calls(RecordType::Aaaa), 1);
}

}  // namespace
}  // namespace hk::dns
