// cache.hpp: TTL expiry, RFC 2308 negative answers, what is never kept, LRU eviction; time comes
// from a ManualClock, so nothing sleeps.
#include "lib/dns/cache.hpp"

#include <gtest/gtest.h>

#include "lib/dns/error.hpp"

namespace hk::dns {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::address;
using boost::asio::ip::make_address;

const base::TimePoint kStart = base::TimePoint() + 1000000s;

Answer<MxRecord> mx_answer(std::uint32_t ttl) {
  Answer<MxRecord> a;
  a.records = {{10, "mx1.example.test"}, {20, "mx2.example.test"}};
  a.ttl = ttl;
  return a;
}

Answer<address> addr_answer(const char* ip, std::uint32_t ttl) {
  Answer<address> a;
  a.records = {make_address(ip)};
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

TEST(CacheTest, KeepsAnAnswerForItsTtl) {
  struct Case {
    std::chrono::seconds after;
    bool hit;
    std::uint32_t ttl_left;
  };
  for (const Case& c : {Case{0s, true, 300}, Case{1s, true, 299}, Case{299s, true, 1},
                        Case{300s, false, 0}, Case{3000s, false, 0}}) {
    Cache cache;
    base::ManualClock clock(kStart);
    cache.put(RecordType::Mx, "example.test", mx_answer(300), clock.now());
    clock.advance(c.after);
    auto hit = cache.get<MxRecord>(RecordType::Mx, "example.test", clock.now());
    ASSERT_EQ(hit.has_value(), c.hit) << c.after.count();
    if (c.hit) {
      EXPECT_EQ(hit->records, mx_answer(300).records);
      EXPECT_EQ(hit->ttl, c.ttl_left);
      EXPECT_FALSE(hit->ec);
    } else {
      EXPECT_EQ(cache.size(), 0U);  // expired entries are dropped when looked up
    }
  }
}

TEST(CacheTest, RemainingTtlRoundsUp) {
  Cache cache;
  cache.put(RecordType::Mx, "example.test", mx_answer(10), kStart);
  auto hit = cache.get<MxRecord>(RecordType::Mx, "example.test", kStart + 9500ms);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl, 1U);
}

TEST(CacheTest, KeyIgnoresCaseAndTrailingDotButNotType) {
  Cache cache;
  cache.put(RecordType::A, "MX1.Example.TEST.", addr_answer("127.0.0.10", 60), kStart);
  EXPECT_TRUE(cache.get<address>(RecordType::A, "mx1.example.test", kStart));
  EXPECT_TRUE(cache.get<address>(RecordType::A, "mx1.example.test.", kStart));
  EXPECT_FALSE(cache.get<address>(RecordType::Aaaa, "mx1.example.test", kStart));
  EXPECT_FALSE(cache.get<address>(RecordType::A, "mx2.example.test", kStart));
  // The right key holding another C++ type is a miss, not a crash.
  EXPECT_FALSE(cache.get<std::string>(RecordType::A, "mx1.example.test", kStart));
}

TEST(CacheTest, KeepsTlsaApartFromTxtAtTheSameName) {
  Cache cache;
  Answer<TlsaRecord> tlsa;
  tlsa.records = {{3, 1, 1, std::vector<unsigned char>(32, 0xAB)}};
  tlsa.ttl = 300;
  Answer<std::string> txt;
  txt.records = {"hello"};
  txt.ttl = 300;
  cache.put(RecordType::Tlsa, "_25._tcp.mx.test", tlsa, kStart);
  cache.put(RecordType::Txt, "_25._tcp.mx.test", txt, kStart);
  auto hit = cache.get<TlsaRecord>(RecordType::Tlsa, "_25._TCP.mx.test", kStart + 100s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->records, tlsa.records);
  EXPECT_EQ(hit->ttl, 200U);
  EXPECT_FALSE(cache.get<TlsaRecord>(RecordType::Txt, "_25._tcp.mx.test", kStart));
  EXPECT_EQ(cache.get<std::string>(RecordType::Txt, "_25._tcp.mx.test", kStart)->records,
            txt.records);
}

TEST(CacheTest, WhatIsKept) {
  struct Case {
    const char* name;
    Answer<MxRecord> answer;
    bool kept;
    std::uint32_t ttl_left;
  };
  const Case cases[] = {
      {"positive", mx_answer(300), true, 300},
      {"positive, ttl 0", mx_answer(0), false, 0},
      {"positive, ttl capped at a day", mx_answer(10000000), true, Cache::kMaxTtl},
      {"nxdomain (RFC 2308)", failure(Error::NxDomain, 600), true, 600},
      {"nodata (RFC 2308)", failure(Error::NoData, 60), true, 60},
      {"nxdomain without SOA", failure(Error::NxDomain, 0), false, 0},
      {"negative ttl capped at 3 h", failure(Error::NoData, 86400), true, Cache::kMaxNegativeTtl},
      {"servfail", failure(Error::ServFail, 300), false, 0},
      {"timeout", failure(Error::Timeout, 300), false, 0},
      {"cancelled", failure(Error::Cancelled, 300), false, 0},
  };
  for (const Case& c : cases) {
    Cache cache;
    cache.put(RecordType::Mx, "example.test", c.answer, kStart);
    auto hit = cache.get<MxRecord>(RecordType::Mx, "example.test", kStart);
    ASSERT_EQ(hit.has_value(), c.kept) << c.name;
    if (c.kept) {
      EXPECT_EQ(hit->ec, c.answer.ec) << c.name;
      EXPECT_EQ(hit->records, c.answer.records) << c.name;
      EXPECT_EQ(hit->ttl, c.ttl_left) << c.name;
    }
  }
}

TEST(CacheTest, NegativeAnswerExpires) {
  Cache cache;
  cache.put(RecordType::Mx, "nx.test", failure(Error::NxDomain, 30), kStart);
  EXPECT_TRUE(cache.get<MxRecord>(RecordType::Mx, "nx.test", kStart + 29s));
  EXPECT_FALSE(cache.get<MxRecord>(RecordType::Mx, "nx.test", kStart + 30s));
}

TEST(CacheTest, NewerAnswerReplacesOlder) {
  Cache cache;
  cache.put(RecordType::A, "h.test", addr_answer("127.0.0.1", 300), kStart);
  cache.put(RecordType::A, "h.test", addr_answer("127.0.0.2", 10), kStart + 1s);
  auto hit = cache.get<address>(RecordType::A, "h.test", kStart + 2s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->records, std::vector<address>{make_address("127.0.0.2")});
  EXPECT_EQ(hit->ttl, 9U);
  EXPECT_EQ(cache.size(), 1U);
}

TEST(CacheTest, EvictsLeastRecentlyUsed) {
  Cache cache(3);
  for (const char* n : {"a.test", "b.test", "c.test"}) {
    cache.put(RecordType::A, n, addr_answer("127.0.0.1", 300), kStart);
  }
  // Reading a.test makes b.test the least recently used.
  EXPECT_TRUE(cache.get<address>(RecordType::A, "a.test", kStart));
  cache.put(RecordType::A, "d.test", addr_answer("127.0.0.1", 300), kStart);
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_TRUE(cache.get<address>(RecordType::A, "a.test", kStart));
  EXPECT_FALSE(cache.get<address>(RecordType::A, "b.test", kStart));
  EXPECT_TRUE(cache.get<address>(RecordType::A, "c.test", kStart));
  EXPECT_TRUE(cache.get<address>(RecordType::A, "d.test", kStart));
}

TEST(CacheTest, SizeStaysBounded) {
  Cache cache(100);
  for (int i = 0; i < 1000; ++i) {
    cache.put(RecordType::A, "h" + std::to_string(i) + ".test", addr_answer("127.0.0.1", 300),
              kStart);
  }
  EXPECT_EQ(cache.size(), 100U);
  EXPECT_TRUE(cache.get<address>(RecordType::A, "h999.test", kStart));
  EXPECT_FALSE(cache.get<address>(RecordType::A, "h899.test", kStart));
}

TEST(CacheTest, ZeroCapacityKeepsNothing) {
  Cache cache(0);
  cache.put(RecordType::Mx, "example.test", mx_answer(300), kStart);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(CacheTest, ClockSetBackDropsTheEntry) {
  Cache cache;
  cache.put(RecordType::Mx, "example.test", mx_answer(300), kStart);
  EXPECT_FALSE(cache.get<MxRecord>(RecordType::Mx, "example.test", kStart - 1s));
  EXPECT_EQ(cache.size(), 0U);
}

TEST(CacheTest, ClearEmpties) {
  Cache cache;
  cache.put(RecordType::Mx, "example.test", mx_answer(300), kStart);
  cache.clear();
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_FALSE(cache.get<MxRecord>(RecordType::Mx, "example.test", kStart));
}

}  // namespace
}  // namespace hk::dns
