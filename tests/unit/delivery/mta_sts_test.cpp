// Tests for MtaSts and its PolicyCache: discovery answers come from the DNS cache (no query is
// sent), the policy from policy_server.py on loopback, and time from a ManualClock: a fetched
// policy is persisted and survives a restart without its TXT record, an id change refetches,
// an unchanged id does not, and a policy expires after max_age.
#include "daemon/delivery/mta_sts.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "lib/base/clock.hpp"
#include "lib/base/files.hpp"
#include "lib/dns/caching_resolver.hpp"
#include "lib/dns/resolver.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "test_support.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kDomain = "example.test";

std::string policy_text(const std::string& mode, const std::string& mx, int max_age) {
  return "version: STSv1\nmode: " + mode + "\nmx: " + mx + "\nmax_age: " + std::to_string(max_age) +
         "\n";
}

class MtaStsTest : public ::testing::Test {
 protected:
  MtaStsTest() : resolver_(io_.get_executor(), dns_options()) {}

  void SetUp() override {
    cert_ = test::make_cert(dir_.path(), {"mta-sts.example.test"});
    ASSERT_FALSE(cert_.cert.empty());
    std::string error;
    ctx_ = make_client_tls_context(cert_.cert, error);
    ASSERT_TRUE(ctx_) << error;
  }

  static dns::Resolver::Options dns_options() {
    // Names not in the cache go to a closed port and fail at once, as a lost TXT record would.
    dns::Resolver::Options o;
    o.servers = {"127.0.0.1:" + std::to_string(hk::test::free_port())};
    o.timeout = 200ms;
    o.attempts = 1;
    return o;
  }

  void serve(const std::string& policy) {
    dir_.write("policy.txt", policy);
    if (!server_) {
      server_ = std::make_unique<test::PolicyServer>(std::vector<std::string>{
          "--cert", cert_.cert, "--key", cert_.key, "--policy",
          (dir_.path() / "policy.txt").string(), "--log", (dir_.path() / "requests").string()});
      ASSERT_TRUE(server_->started());
    }
  }
  void stop_server() { server_.reset(); }

  size_t requests() const {
    std::ifstream in(dir_.path() / "requests");
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
    }
    return n;
  }

  // The TXT record (empty id: none) and the policy host's address, in the DNS cache.
  void dns(const std::string& id) {
    dns_.cache().clear();
    if (!id.empty()) {
      dns::Answer<std::string> txt;
      txt.records = {"v=STSv1; id=" + id + ";"};
      txt.ttl = 86400;
      dns_.cache().put(dns::RecordType::Txt, "_mta-sts.example.test", txt, clock_.now());
    }
    dns::Answer<asio::ip::address> a;
    a.records = {asio::ip::make_address("127.0.0.1")};
    a.ttl = 86400;
    dns_.cache().put(dns::RecordType::A, "mta-sts.example.test", a, clock_.now());
  }

  // A fresh MtaSts on the same cache folder: what a restart of the daemon sees.
  void restart() {
    StsOptions o;
    o.dir = dir_.path() / "mta-sts";
    o.https_port = server_ ? server_->port() : hk::test::free_port();
    o.fetch_timeout = 5s;
    sts_ = std::make_unique<MtaSts>(io_.get_executor(), dns_, ctx_, o, clock_);
  }

  std::optional<sts::CachedPolicy> policy() {
    io_.restart();
    auto r = hk::test::run(io_, sts_->policy(kDomain), 15s);
    EXPECT_TRUE(r.has_value()) << "lookup did not finish";
    return r ? *r : std::nullopt;
  }

  hk::test::TempDir dir_;
  test::TestCert cert_;
  asio::io_context io_;
  base::ManualClock clock_{base::TimePoint(1700000000s)};
  dns::Resolver resolver_;
  dns::CachingResolver dns_{resolver_, clock_};
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<test::PolicyServer> server_;
  std::unique_ptr<MtaSts> sts_;
};

TEST_F(MtaStsTest, NoRecordNoPolicy) {
  dns("");
  restart();
  EXPECT_FALSE(policy());
}

TEST_F(MtaStsTest, FetchPersistReloadRefetchExpire) {
  serve(policy_text("enforce", "*.example.test", 3600));
  dns("one");
  restart();
  std::optional<sts::CachedPolicy> p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->policy.mode, sts::Mode::Enforce);
  EXPECT_EQ(p->id, "one");
  EXPECT_EQ(requests(), 1u);
  EXPECT_TRUE(fs::exists(dir_.path() / "mta-sts" / kDomain));

  // Same id: the cached policy, no fetch (RFC 8461 §3.3).
  clock_.advance(60s);
  ASSERT_TRUE(policy());
  EXPECT_EQ(requests(), 1u);

  // Restart with the policy server gone and the TXT record gone: the persisted policy holds.
  stop_server();
  dns("");
  restart();
  p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->policy.mode, sts::Mode::Enforce);
  EXPECT_EQ(p->id, "one");

  // A new id while the server is down: the fetch fails, the unexpired old policy stays (§3.3).
  dns("two");
  p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, "one");

  // The server is back with a new policy under id "two": fetched, replacing the old one.
  serve(policy_text("testing", "mx.example.test", 7200));
  restart();
  p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, "two");
  EXPECT_EQ(p->policy.mode, sts::Mode::Testing);
  std::string file;
  ASSERT_FALSE(base::read_file(dir_.path() / "mta-sts" / kDomain, file));
  EXPECT_NE(file.find("id two"), std::string::npos) << file;

  // Expired after max_age with no record: no policy.
  clock_.advance(7201s);
  dns("");
  restart();
  EXPECT_FALSE(policy());
}

TEST_F(MtaStsTest, FailedFetchWaitsBeforeTheNextOne) {
  serve("version: STSv1\nmode: enforce\nmax_age: 3600\n");  // invalid: no mx
  dns("one");
  restart();
  EXPECT_FALSE(policy());
  EXPECT_EQ(requests(), 1u);
  // Fixed on the server, but the failure is remembered for five minutes: no new fetch yet.
  serve(policy_text("enforce", "*.example.test", 3600));
  clock_.advance(60s);
  EXPECT_FALSE(policy());
  EXPECT_EQ(requests(), 1u);
  clock_.advance(241s);
  std::optional<sts::CachedPolicy> p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->policy.mode, sts::Mode::Enforce);
  EXPECT_EQ(requests(), 2u);
}

TEST_F(MtaStsTest, CachedPolicyIsRefreshedAfterADay) {
  serve(policy_text("enforce", "*.example.test", 604800));
  dns("one");
  restart();
  ASSERT_TRUE(policy());
  EXPECT_EQ(requests(), 1u);
  clock_.advance(std::chrono::hours(23));
  dns("one");  // the DNS cache entries are refreshed with the clock
  ASSERT_TRUE(policy());
  EXPECT_EQ(requests(), 1u);  // same id, less than a day old: no fetch
  clock_.advance(std::chrono::hours(2));
  dns("one");
  serve(policy_text("testing", "*.example.test", 604800));
  std::optional<sts::CachedPolicy> p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(requests(), 2u);  // refreshed under the same id (RFC 8461 §5.1)
  EXPECT_EQ(p->policy.mode, sts::Mode::Testing);
  // A failed refresh keeps the cached policy in force.
  stop_server();
  clock_.advance(std::chrono::hours(25));
  dns("one");
  p = policy();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->policy.mode, sts::Mode::Testing);
}

TEST_F(MtaStsTest, InvalidPolicyIsNoPolicy) {
  serve("version: STSv1\nmode: enforce\nmax_age: 3600\n");  // no mx
  dns("one");
  restart();
  EXPECT_FALSE(policy());
  EXPECT_FALSE(fs::exists(dir_.path() / "mta-sts" / kDomain));
}

TEST_F(MtaStsTest, CorruptCacheFileIsIgnored) {
  dir_.write(fs::path("mta-sts") / kDomain, "hikyaku-mta-sts 1\nid x\n");
  dns("");
  restart();
  EXPECT_FALSE(policy());
}

TEST_F(MtaStsTest, AddressLiteralsHaveNoPolicy) {
  dns("");
  restart();
  io_.restart();
  auto r = hk::test::run(io_, sts_->policy("[192.0.2.1]"), 5s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
  io_.restart();
  r = hk::test::run(io_, sts_->policy("../etc"), 5s);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
}

}  // namespace
}  // namespace hk::delivery
