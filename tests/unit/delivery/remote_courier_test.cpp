// Tests for RemoteCourier's connection reuse against real servers on loopback: fake_mx.py counts
// the connections it accepts and the QUITs it gets; a scripted server drops a parked session just
// as the next transaction begins. MX answers are put in the DNS cache, so no query is ever sent.
#include "daemon/delivery/remote_courier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/clock.hpp"
#include "lib/base/log.hpp"
#include "lib/dns/caching_resolver.hpp"
#include "lib/dns/resolver.hpp"
#include "test_support.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using queue::DeliveryResult;
using test::FakeMx;
using test::ScriptedServer;
using test::Step;
using Kind = Step::Kind;
using Status = DeliveryResult::Status;

// Owns the courier's executor, DNS and courier; delivers one message at a time. start() may come
// after servers on io() are set up.
class Harness {
 public:
  Harness() : resolver_(io_.get_executor(), dns_options()) {}
  explicit Harness(RemoteOptions opts) : Harness() { start(std::move(opts)); }

  void start(RemoteOptions opts) {
    opts.hostname = "client.test";
    opts.connect_timeout = 5s;
    opts.command_timeout = 5s;
    opts.data_timeout = 5s;
    std::string error;
    auto tls = make_client_tls_context(test::test_cert().cert, error);
    EXPECT_TRUE(tls) << error;
    courier_ = std::make_unique<RemoteCourier>(io_.get_executor(), dns_, std::move(opts), tls);
  }

  // Every MX of `domain` is 127.0.0.1 (with RemoteOptions::mx_port), straight from the cache.
  void mx_is_loopback(const std::string& domain) {
    dns::Answer<dns::MxRecord> answer;
    answer.records = {{10, "127.0.0.1"}};
    answer.ttl = 3600;
    dns_.cache().put(dns::RecordType::Mx, domain, answer, clock_.now());
  }

  // One result per recipient; empty when the delivery did not finish within 10 s.
  // `senders`, when given, are the recipients' own reverse-paths (Recipient::sender, SRS).
  std::vector<DeliveryResult> deliver(const std::string& id, std::vector<std::string> to,
                                      std::string message = "Subject: hi\r\n\r\nHello.\r\n",
                                      std::vector<std::string> senders = {},
                                      bool requiretls = false) {
    queue::Envelope env;
    env.id = id;
    env.requiretls = requiretls;
    env.from = "sender@example.org";
    for (size_t i = 0; i < to.size(); ++i) {
      queue::Recipient r;
      r.address = to[i];
      r.original = to[i];
      r.sender = i < senders.size() ? senders[i] : "";
      env.rcpts.push_back(std::move(r));
    }
    io_.restart();
    auto r = hk::test::run(io_, go(*courier_, std::move(env), std::move(message)));
    EXPECT_TRUE(r.has_value()) << "delivery did not finish in time";
    return r ? *r : std::vector<DeliveryResult>{};
  }

  // Runs the courier's timers and background QUITs until `done` or `limit`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      io_.restart();
      io_.run_for(50ms);
    }
    return true;
  }

  void run_for(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  asio::io_context& io() { return io_; }
  void destroy_courier() { courier_.reset(); }

 private:
  static dns::Resolver::Options dns_options() {
    // Never asked: every name the tests use is an address literal or already in the cache.
    dns::Resolver::Options o;
    o.servers = {"127.0.0.1:" + std::to_string(hk::test::free_port())};
    o.timeout = 200ms;
    o.attempts = 1;
    return o;
  }

  static asio::awaitable<std::vector<DeliveryResult>> go(RemoteCourier& courier,
                                                         queue::Envelope env, std::string message) {
    std::vector<const queue::Recipient*> rcpts;
    for (const queue::Recipient& r : env.rcpts) {
      rcpts.push_back(&r);
    }
    std::vector<DeliveryResult> out = co_await courier.deliver(env, rcpts, message);
    co_return out;
  }

  asio::io_context io_;
  base::SystemClock clock_;
  dns::Resolver resolver_;
  dns::CachingResolver dns_{resolver_, clock_};
  std::unique_ptr<RemoteCourier> courier_;
};

// Debug logging captured for the life of the object, to see which way the courier went.
class DebugLog {
 public:
  DebugLog() : old_(base::log_level()) {
    base::set_log_level(base::LogLevel::Debug);
    testing::internal::CaptureStderr();
  }
  ~DebugLog() {
    text();
    base::set_log_level(old_);
  }
  const std::string& text() {
    if (!taken_) {
      text_ = testing::internal::GetCapturedStderr();
      taken_ = true;
    }
    return text_;
  }
  bool contains(const std::string& part) { return text().find(part) != std::string::npos; }

 private:
  base::LogLevel old_;
  bool taken_ = false;
  std::string text_;
};

config::Relay relay(uint16_t port, config::RelayTls tls, std::vector<std::string> domains,
                    std::string user = "", std::string password = "") {
  config::Relay r;
  r.host = "127.0.0.1";
  r.port = port;
  r.tls = tls;
  r.domains = std::move(domains);
  r.username = std::move(user);
  r.password = std::move(password);
  return r;
}

std::vector<std::string> tls_flags() {
  return {"--cert", test::test_cert().cert, "--key", test::test_cert().key};
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

size_t connects(const FakeMx& mx) {
  auto s = mx.sessions();
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](const std::string& l) { return l.rfind("connect ", 0) == 0; }));
}

void expect_delivered(const std::vector<DeliveryResult>& r, size_t n) {
  ASSERT_EQ(r.size(), n);
  for (const DeliveryResult& d : r) {
    EXPECT_EQ(d.status, Status::Delivered) << d.line();
  }
}

// Two domains whose MX is the same address: the second message rides on the first one's
// connection, which is parked rather than closed.
TEST(RemoteCourierReuse, TwoMessagesOneConnection) {
  FakeMx mx({"--pipelining"});
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  o.mx_port = mx.endpoint().port();
  Harness h(o);
  DebugLog log;
  h.mx_is_loopback("a.test");
  h.mx_is_loopback("b.test");
  expect_delivered(h.deliver("m1", {"one@a.test"}), 1);
  expect_delivered(h.deliver("m2", {"two@b.test", "three@b.test"}), 2);
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].values("session"), std::vector<std::string>{"1"});
  EXPECT_EQ(stored[1].values("session"), std::vector<std::string>{"1"});
  EXPECT_EQ(mx.sessions(), std::vector<std::string>{"connect 1"});
  EXPECT_TRUE(log.contains("id=m2 peer=127.0.0.1:" + std::to_string(o.mx_port) +
                           " name=127.0.0.1 connection=reused transactions=1"))
      << log.text();
}

// SRS (docs/srs.md): recipients of one domain with different reverse-paths go in one transaction
// per sender, each with its own MAIL FROM; results come back in recipient order.
TEST(RemoteCourierSenders, OneTransactionPerDomainAndSender) {
  FakeMx mx({"--pipelining"});
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  o.mx_port = mx.endpoint().port();
  Harness h(o);
  h.mx_is_loopback("a.test");
  const std::string srs = "SRS0=AbCd=TA=example.org=sender@fwd.test";
  auto r = h.deliver("m1", {"one@a.test", "two@a.test", "three@a.test", "reject@a.test"},
                     "Subject: hi\r\n\r\nHello.\r\n", {srs, "", srs, srs});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].status, Status::Delivered);
  EXPECT_EQ(r[1].status, Status::Delivered);
  EXPECT_EQ(r[2].status, Status::Delivered);
  EXPECT_EQ(r[3].status, Status::Permanent);
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 2u);
  for (const auto& m : stored) {
    if (m.values("from") == std::vector<std::string>{srs}) {
      EXPECT_EQ(m.values("rcpt"), (std::vector<std::string>{"one@a.test", "three@a.test"}));
    } else {
      EXPECT_EQ(m.values("from"), std::vector<std::string>{"sender@example.org"});
      EXPECT_EQ(m.values("rcpt"), std::vector<std::string>{"two@a.test"});
    }
  }
}

// The server closes the parked connection (its own idle timeout); the liveness check sees it and
// the next message goes over a fresh connection.
TEST(RemoteCourierReuse, ParkedConnectionClosedByServer) {
  FakeMx mx({"--idle-timeout", "0.5"});
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  o.relays = {relay(mx.endpoint().port(), config::RelayTls::None, {})};
  Harness h(o);
  DebugLog log;
  expect_delivered(h.deliver("m1", {"one@far.test"}), 1);
  h.run_for(1200ms);  // past the server's 0.5 s, short of our 5 s
  expect_delivered(h.deliver("m2", {"two@far.test"}), 1);
  // Seen by the check before use, not by a failed transaction.
  EXPECT_TRUE(log.contains("result=cached-connection-closed")) << log.text();
  EXPECT_FALSE(log.contains("connection=reused")) << log.text();
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].values("session"), std::vector<std::string>{"2"});
  EXPECT_EQ(connects(mx), 2u);
}

// The server drops the parked session only when the next MAIL arrives, so the liveness check
// passes: the transaction is repeated once on a fresh connection and the message delivered.
TEST(RemoteCourierReuse, RetryOnceWhenReusedConnectionFails) {
  const std::vector<Step> transaction = {
      {Kind::Expect, ""},     {Kind::Send, "250 2.1.0 ok\r\n"},
      {Kind::Expect, ""},     {Kind::Send, "250 2.1.5 ok\r\n"},
      {Kind::Expect, ""},     {Kind::Send, "354 go ahead\r\n"},
      {Kind::ExpectData, ""}, {Kind::Send, "250 2.0.0 queued\r\n"}};
  std::vector<Step> first = {
      {Kind::Send, "220 mx.test ESMTP\r\n"}, {Kind::Expect, ""}, {Kind::Send, "250 mx.test\r\n"}};
  first.insert(first.end(), transaction.begin(), transaction.end());
  first.push_back({Kind::Expect, ""});  // the next MAIL, never answered
  first.push_back({Kind::Close, ""});
  std::vector<Step> second = {
      {Kind::Send, "220 mx.test ESMTP\r\n"}, {Kind::Expect, ""}, {Kind::Send, "250 mx.test\r\n"}};
  second.insert(second.end(), transaction.begin(), transaction.end());
  second.push_back({Kind::Hold, ""});

  Harness h;
  ScriptedServer server(h.io(), {first, second});
  RemoteOptions o;
  o.relays = {relay(server.endpoint().port(), config::RelayTls::None, {})};
  h.start(o);
  DebugLog log;
  expect_delivered(h.deliver("m1", {"one@far.test"}), 1);
  expect_delivered(h.deliver("m2", {"two@far.test"}), 1);
  EXPECT_TRUE(log.contains("id=m2 peer=127.0.0.1:" + std::to_string(server.endpoint().port()) +
                           " result=reused-connection-lost"))
      << log.text();
  EXPECT_EQ(server.accepted(), 2u);
  // EHLO + 5 steps of a transaction, the unanswered MAIL, then the same again on the fresh one.
  ASSERT_EQ(server.received().size(), 11u);
  EXPECT_EQ(server.received()[5], "MAIL FROM:<sender@example.org>\r\n");
  EXPECT_EQ(server.received()[6], "EHLO client.test\r\n");
  EXPECT_EQ(server.received()[9], "DATA\r\n");
}

// A parked connection is closed with QUIT once it has been idle for reuse_idle, not left open.
TEST(RemoteCourierReuse, IdleLimitSendsQuit) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  o.relays = {relay(mx.endpoint().port(), config::RelayTls::None, {})};
  o.reuse_idle = 1s;
  Harness h(o);
  auto start = std::chrono::steady_clock::now();
  expect_delivered(h.deliver("m1", {"one@far.test"}), 1);
  h.run_for(300ms);
  EXPECT_EQ(mx.sessions(), std::vector<std::string>{"connect 1"}) << "closed too early";
  EXPECT_TRUE(h.run_until([&] { return has(mx.sessions(), "quit 1"); }, 3000ms))
      << "no QUIT after the idle limit";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  // The next message needs a new connection.
  expect_delivered(h.deliver("m2", {"two@far.test"}), 1);
  EXPECT_EQ(connects(mx), 2u);
}

// Sessions set up with other TLS expectations or another login are not shared; those with the
// same are, whatever the recipient domain.
TEST(RemoteCourierReuse, TlsAndAuthKeepConnectionsApart) {
  {
    SCOPED_TRACE("TLS");
    std::vector<std::string> flags = tls_flags();
    flags.push_back("--starttls");
    FakeMx mx(flags);
    ASSERT_TRUE(mx.started());
    RemoteOptions o;
    uint16_t port = mx.endpoint().port();
    o.relays = {relay(port, config::RelayTls::None, {"plain.test"}),
                relay(port, config::RelayTls::StartTls, {"tls.test"})};
    Harness h(o);
    for (const char* to : {"a@plain.test", "b@tls.test", "c@plain.test", "d@tls.test"}) {
      expect_delivered(h.deliver(to, {to}), 1);
    }
    auto stored = mx.messages();
    ASSERT_EQ(stored.size(), 4u);
    EXPECT_EQ(connects(mx), 2u);
    EXPECT_EQ(stored[0].values("tls"), std::vector<std::string>{"no"});
    EXPECT_EQ(stored[1].values("tls"), std::vector<std::string>{"yes"});
    EXPECT_EQ(stored[2].values("tls"), std::vector<std::string>{"no"});
    EXPECT_EQ(stored[3].values("tls"), std::vector<std::string>{"yes"});
    EXPECT_EQ(stored[0].values("session"), stored[2].values("session"));
    EXPECT_EQ(stored[1].values("session"), stored[3].values("session"));
  }
  {
    SCOPED_TRACE("AUTH");
    std::vector<std::string> flags = tls_flags();
    flags.insert(flags.end(), {"--starttls", "--auth", "relayuser:secret,other:pw2"});
    FakeMx mx(flags);
    ASSERT_TRUE(mx.started());
    RemoteOptions o;
    uint16_t port = mx.endpoint().port();
    auto tls = config::RelayTls::StartTls;
    o.relays = {relay(port, tls, {"a.test"}, "relayuser", "secret"),
                relay(port, tls, {"b.test"}, "other", "pw2"),
                relay(port, tls, {"c.test"}, "relayuser", "secret")};
    Harness h(o);
    for (const char* to : {"x@a.test", "y@b.test", "z@c.test"}) {
      expect_delivered(h.deliver(to, {to}), 1);
    }
    auto stored = mx.messages();
    ASSERT_EQ(stored.size(), 3u);
    EXPECT_EQ(connects(mx), 2u);
    EXPECT_EQ(stored[0].values("auth"), std::vector<std::string>{"relayuser"});
    EXPECT_EQ(stored[1].values("auth"), std::vector<std::string>{"other"});
    EXPECT_EQ(stored[2].values("auth"), std::vector<std::string>{"relayuser"});
    EXPECT_EQ(stored[0].values("session"), stored[2].values("session"));
    EXPECT_NE(stored[0].values("session"), stored[1].values("session"));
  }
}

// The 100th transaction is the last on a connection: it gets a QUIT, and the 101st message a
// new connection.
TEST(RemoteCourierReuse, TransactionCapOpensNewConnection) {
  FakeMx mx({"--pipelining"});
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  o.relays = {relay(mx.endpoint().port(), config::RelayTls::None, {})};
  ASSERT_EQ(o.reuse_max_transactions, 100u);
  Harness h(o);
  for (int i = 1; i <= 101; ++i) {
    auto r = h.deliver("m" + std::to_string(i), {"n" + std::to_string(i) + "@far.test"});
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].status, Status::Delivered) << i << ": " << r[0].line();
  }
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 101u);
  EXPECT_EQ(stored[99].values("session"), std::vector<std::string>{"1"});
  EXPECT_EQ(stored[100].values("session"), std::vector<std::string>{"2"});
  EXPECT_TRUE(h.run_until([&] { return has(mx.sessions(), "quit 1"); }, 2000ms));
  EXPECT_EQ(connects(mx), 2u);
}

// With room for one parked connection, parking a second closes the first with QUIT; destroying
// the courier closes what is still parked.
TEST(RemoteCourierReuse, ParkedConnectionsAreBounded) {
  std::vector<std::string> flags = tls_flags();
  flags.push_back("--starttls");
  FakeMx mx(flags);
  ASSERT_TRUE(mx.started());
  RemoteOptions o;
  uint16_t port = mx.endpoint().port();
  o.relays = {relay(port, config::RelayTls::None, {"plain.test"}),
              relay(port, config::RelayTls::StartTls, {"tls.test"})};
  o.reuse_max_parked = 1;
  Harness h(o);
  expect_delivered(h.deliver("m1", {"a@plain.test"}), 1);
  expect_delivered(h.deliver("m2", {"b@tls.test"}), 1);
  EXPECT_TRUE(h.run_until([&] { return has(mx.sessions(), "quit 1"); }, 2000ms));
  h.destroy_courier();
  h.run_for(200ms);
  EXPECT_FALSE(has(mx.sessions(), "quit 2"));  // closed without QUIT at shutdown
}

// RFC 8689: a REQUIRETLS message skips a smart host (or MX) without verified TLS and REQUIRETLS
// for the next one, and comes back with 550 5.7.30 when none qualifies.
TEST(RemoteCourierRequireTls, NextRelayOrBounce) {
  std::vector<std::string> with = tls_flags();
  with.insert(with.end(), {"--starttls", "--requiretls"});
  std::vector<std::string> without = tls_flags();
  without.push_back("--starttls");
  FakeMx lacks(without);
  FakeMx offers(with);
  ASSERT_TRUE(lacks.started() && offers.started());
  const std::string msg = "Subject: secret\r\n\r\nsecret\r\n";
  {
    RemoteOptions o;
    o.relays = {relay(lacks.endpoint().port(), config::RelayTls::StartTls, {}),
                relay(offers.endpoint().port(), config::RelayTls::StartTls, {})};
    Harness h(o);
    expect_delivered(h.deliver("r1", {"a@remote.test"}, msg, {}, true), 1);
    EXPECT_TRUE(lacks.messages().empty());
    ASSERT_EQ(offers.messages().size(), 1u);
    EXPECT_TRUE(has(offers.messages()[0].values("mail-option"), "REQUIRETLS"));
  }
  {
    RemoteOptions o;
    o.relays = {relay(lacks.endpoint().port(), config::RelayTls::StartTls, {})};
    Harness h(o);
    std::vector<DeliveryResult> r =
        h.deliver("r2", {"a@remote.test", "b@remote.test"}, msg, {}, true);
    ASSERT_EQ(r.size(), 2u);
    for (const DeliveryResult& d : r) {
      EXPECT_EQ(d.status, Status::Permanent) << d.line();
      EXPECT_EQ(d.enhanced, "5.7.30");
    }
    // The same relay takes a message without REQUIRETLS.
    expect_delivered(h.deliver("r3", {"a@remote.test"}), 1);
    EXPECT_EQ(lacks.messages().size(), 1u);
  }
  {
    // Another relay is only unreachable: it may qualify later, so the message waits.
    RemoteOptions o;
    o.relays = {relay(lacks.endpoint().port(), config::RelayTls::StartTls, {}),
                relay(hk::test::free_port(), config::RelayTls::StartTls, {})};
    Harness h(o);
    std::vector<DeliveryResult> r = h.deliver("r4", {"a@remote.test"}, msg, {}, true);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, Status::Transient) << r[0].line();
    EXPECT_NE(r[0].text.find("REQUIRETLS support required"), std::string::npos) << r[0].line();
    EXPECT_NE(r[0].text.find("another host was not reachable"), std::string::npos) << r[0].line();
  }
  {
    RemoteOptions o;
    o.mx_port = lacks.endpoint().port();
    Harness h(o);
    h.mx_is_loopback("remote.test");
    std::vector<DeliveryResult> r = h.deliver("m1", {"a@remote.test"}, msg, {}, true);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, Status::Permanent) << r[0].line();
    EXPECT_EQ(r[0].code, 550);
    EXPECT_EQ(r[0].enhanced, "5.7.30");
  }
}

}  // namespace
}  // namespace hk::delivery
