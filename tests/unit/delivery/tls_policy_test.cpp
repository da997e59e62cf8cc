// The TLS decision for one MX host (daemon/delivery/tls_policy.hpp) and the TLS memory's files
// (lib/tls_memory): which TLSA records are usable, what each kind of TLSA answer means, the order
// DANE > MTA-STS > memory > opportunistic, and the memory's format and folder.
#include "daemon/delivery/tls_policy.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "lib/dns/error.hpp"
#include "lib/dns/lookup.hpp"
#include "lib/tls_memory/tls_memory.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using dns::TlsaRecord;

TlsaRecord tlsa(std::uint8_t usage, std::uint8_t selector, std::uint8_t mtype, size_t len) {
  return {usage, selector, mtype, std::vector<unsigned char>(len, 0xab)};
}

TEST(UsableTlsa, OnlyDaneUsagesKnownSelectorsAndDigestsOfTheirLength) {
  struct Case {
    TlsaRecord r;
    bool usable;
  } cases[] = {
      {tlsa(3, 1, 1, 32), true},  {tlsa(3, 0, 0, 300), true}, {tlsa(2, 0, 2, 64), true},
      {tlsa(2, 1, 1, 32), true},  {tlsa(0, 1, 1, 32), false},  // PKIX-TA: not for SMTP
      {tlsa(1, 1, 1, 32), false},                              // PKIX-EE: not for SMTP
      {tlsa(4, 1, 1, 32), false}, {tlsa(3, 2, 1, 32), false}, {tlsa(3, 1, 3, 32), false},
      {tlsa(3, 1, 1, 31), false}, {tlsa(3, 1, 2, 32), false}, {tlsa(3, 0, 0, 0), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(usable_tlsa(c.r), c.usable) << int(c.r.usage) << " " << int(c.r.selector) << " "
                                          << int(c.r.matching_type) << " len " << c.r.data.size();
  }
}

dns::Answer<TlsaRecord> answer(std::vector<TlsaRecord> records, bool ad,
                               boost::system::error_code ec = {}) {
  dns::Answer<TlsaRecord> a;
  a.records = std::move(records);
  a.authenticated = ad;
  a.ec = ec;
  return a;
}

TEST(DaneFromAnswer, EachKindOfAnswer) {
  const std::string base = "_25._tcp.mx.example";
  EXPECT_EQ(dane_from_answer(answer({}, true, dns::Error::NxDomain), base).status,
            DaneStatus::None);
  EXPECT_EQ(dane_from_answer(answer({}, true, dns::Error::NoData), base).status, DaneStatus::None);
  // SERVFAIL (bogus) and timeouts forbid delivery to the host (RFC 7672 §2.2).
  DaneResult bogus = dane_from_answer(answer({}, false, dns::Error::ServFail), base);
  EXPECT_EQ(bogus.status, DaneStatus::Failed);
  EXPECT_NE(bogus.detail.find("TLSA lookup of _25._tcp.mx.example failed"), std::string::npos);
  // Not validated: as if there were none.
  EXPECT_EQ(dane_from_answer(answer({tlsa(3, 1, 1, 32)}, false), base).status, DaneStatus::None);
  DaneResult usable = dane_from_answer(answer({tlsa(1, 1, 1, 32), tlsa(3, 1, 1, 32)}, true), base);
  EXPECT_EQ(usable.status, DaneStatus::Usable);
  ASSERT_EQ(usable.records.size(), 1u);
  EXPECT_EQ(usable.records[0].usage, 3);
  EXPECT_EQ(dane_from_answer(answer({tlsa(1, 1, 1, 32)}, true), base).status, DaneStatus::Unusable);
}

// A Lookup with fixed answers per name; every other name is NXDOMAIN.
class FixedDns final : public dns::Lookup {
 public:
  std::map<std::string, dns::Answer<asio::ip::address>> v4, v6;
  std::map<std::string, dns::Answer<TlsaRecord>> tlsa_;

  template <class T>
  static dns::Answer<T> find(const std::map<std::string, dns::Answer<T>>& m,
                             const std::string& name) {
    auto it = m.find(name);
    if (it != m.end()) {
      return it->second;
    }
    dns::Answer<T> a;
    a.ec = dns::Error::NxDomain;
    return a;
  }
  asio::awaitable<dns::Answer<dns::MxRecord>> mx(std::string) override {
    co_return dns::Answer<dns::MxRecord>{};
  }
  asio::awaitable<dns::Answer<asio::ip::address>> a(std::string name) override {
    co_return find(v4, name);
  }
  asio::awaitable<dns::Answer<asio::ip::address>> aaaa(std::string name) override {
    co_return find(v6, name);
  }
  asio::awaitable<dns::Answer<std::string>> txt(std::string) override {
    co_return dns::Answer<std::string>{};
  }
  asio::awaitable<dns::Answer<std::string>> ptr(asio::ip::address) override {
    co_return dns::Answer<std::string>{};
  }
  asio::awaitable<dns::Answer<TlsaRecord>> tlsa(std::string name) override {
    co_return find(tlsa_, name);
  }
};

TlsPlan plan(FixedDns& dns, const std::string& host, TlsInputs in) {
  asio::io_context io;
  auto f = asio::co_spawn(io, plan_tls(dns, host, in), asio::use_future);
  io.run();
  return f.get();
}

class PlanTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dns::Answer<asio::ip::address> a;
    a.records = {asio::ip::make_address("192.0.2.1")};
    a.authenticated = true;
    dns_.v4["mx.signed.example"] = a;
    a.authenticated = false;
    dns_.v4["mx.unsigned.example"] = a;
    dns_.tlsa_["_25._tcp.mx.signed.example"] = answer({tlsa(3, 1, 1, 32)}, true);
    dns_.tlsa_["_25._tcp.mx.unsigned.example"] = answer({tlsa(3, 1, 1, 32)}, true);
  }
  FixedDns dns_;
  tls_memory::Record memory_{"example", "mx.example", "verified", 1};
};

TEST_F(PlanTls, DaneWhenEverythingIsValidated) {
  TlsPlan p = plan(dns_, "mx.signed.example", {true, true, false, std::nullopt});
  EXPECT_EQ(p.mode, TlsMode::Dane);
  EXPECT_EQ(p.tlsa.size(), 1u);
  EXPECT_EQ(p.reason, "dane");
  // A trailing dot on the MX host changes nothing.
  EXPECT_EQ(plan(dns_, "mx.signed.example.", {true, true, false, std::nullopt}).mode,
            TlsMode::Dane);
  // DANE wins over an enforced MTA-STS policy and over the memory.
  EXPECT_EQ(plan(dns_, "mx.signed.example", {true, true, true, memory_}).mode, TlsMode::Dane);
}

TEST_F(PlanTls, NoDaneWithoutValidatedMxOrAddressesOrWhenOff) {
  EXPECT_EQ(plan(dns_, "mx.signed.example", {true, false, false, std::nullopt}).mode,
            TlsMode::Opportunistic);
  EXPECT_EQ(plan(dns_, "mx.unsigned.example", {true, true, false, std::nullopt}).mode,
            TlsMode::Opportunistic);
  EXPECT_EQ(plan(dns_, "mx.signed.example", {false, true, false, std::nullopt}).mode,
            TlsMode::Opportunistic);
}

TEST_F(PlanTls, BogusTlsaSkipsTheHost) {
  dns_.tlsa_["_25._tcp.mx.signed.example"] = answer({}, false, dns::Error::ServFail);
  TlsPlan p = plan(dns_, "mx.signed.example", {true, true, false, std::nullopt});
  ASSERT_TRUE(p.skip.has_value());
  EXPECT_EQ(p.skip->enhanced, "4.7.5");
  EXPECT_EQ(p.skip->status, queue::DeliveryResult::Status::Transient);
}

TEST_F(PlanTls, UnusableRecordsStillRequireTls) {
  dns_.tlsa_["_25._tcp.mx.signed.example"] = answer({tlsa(1, 1, 1, 32)}, true);
  EXPECT_EQ(plan(dns_, "mx.signed.example", {true, true, false, std::nullopt}).mode,
            TlsMode::Encrypt);
  // ... and verified TLS when the memory or MTA-STS asks for it.
  EXPECT_EQ(plan(dns_, "mx.signed.example", {true, true, false, memory_}).mode, TlsMode::Required);
}

TEST_F(PlanTls, MtaStsThenMemoryThenOpportunistic) {
  TlsPlan sts = plan(dns_, "mx.other.example", {true, true, true, memory_});
  EXPECT_EQ(sts.mode, TlsMode::Required);
  EXPECT_EQ(sts.reason, "mta-sts");
  TlsPlan mem = plan(dns_, "mx.other.example", {true, true, false, memory_});
  EXPECT_EQ(mem.mode, TlsMode::Required);
  EXPECT_EQ(mem.reason, "tls-memory");
  EXPECT_NE(mem.required_by.find("domaininfo remove example"), std::string::npos);
  EXPECT_EQ(plan(dns_, "mx.other.example", {true, true, false, std::nullopt}).mode,
            TlsMode::Opportunistic);
}

TEST(TlsMemory, FormatAndParseRoundTrip) {
  tls_memory::Record r{"example.com", "mx.example.com", "dane", 1765065600};
  EXPECT_EQ(tls_memory::parse("example.com", tls_memory::format(r)), r);
  EXPECT_FALSE(tls_memory::parse("x", "tls=maybe\n"));
  EXPECT_FALSE(tls_memory::parse("x", "mx=a\n"));  // no tls= line
  EXPECT_FALSE(tls_memory::parse("x", "tls=verified\nsince=12x\n"));
  EXPECT_FALSE(tls_memory::parse("x", "tls=verified\nother=1\n"));
}

TEST(TlsMemory, NamesAreDomainsOnly) {
  EXPECT_EQ(tls_memory::normalize("Example.COM."), "example.com");
  EXPECT_EQ(tls_memory::normalize("../etc"), "");
  EXPECT_EQ(tls_memory::normalize("a/b"), "");
  EXPECT_EQ(tls_memory::normalize(""), "");
  EXPECT_EQ(tls_memory::normalize("example.com.tmp.12345"), "");
}

TEST(TlsMemory, StorePutGetListRemove) {
  test::TempDir dir;
  tls_memory::Store store(dir.path() / "domaininfo");
  EXPECT_FALSE(store.get("example.com"));
  EXPECT_TRUE(store.list().empty());
  ASSERT_FALSE(store.put({"example.com", "mx.example.com", "verified", 5}));
  ASSERT_FALSE(store.put({"b.example", "mx.b.example", "dane", 6}));
  auto got = store.get("EXAMPLE.com");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->mx, "mx.example.com");
  auto all = store.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].domain, "b.example");
  EXPECT_FALSE(store.remove("example.com"));
  EXPECT_EQ(store.remove("example.com"), std::errc::no_such_file_or_directory);
  EXPECT_FALSE(store.get("example.com"));
  // A damaged file still counts: TLS stays required until the operator removes it.
  dir.write("domaininfo/broken.example", "garbage");
  auto broken = store.get("broken.example");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->method, "unreadable");
}

TEST(RememberTls, OnlyVerifiedAndOnlyOnce) {
  test::TempDir dir;
  tls_memory::Store store(dir.path() / "domaininfo");
  remember_tls(store, "plain.example", "mx.plain.example", TlsResult::Unverified, 10);
  EXPECT_FALSE(store.get("plain.example"));
  remember_tls(store, "example.com", "mx1.example.com.", TlsResult::Dane, 10);
  remember_tls(store, "example.com", "mx2.example.com", TlsResult::Verified, 20);
  auto r = store.get("example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mx, "mx1.example.com");
  EXPECT_EQ(r->method, "dane");
  EXPECT_EQ(r->since, 10);
}

}  // namespace
}  // namespace hk::delivery
