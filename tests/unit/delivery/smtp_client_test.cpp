// Tests for SmtpClient against real servers on loopback: aiosmtpd (fake_mx.py) for the protocol
// as a mail server speaks it, and a scripted raw server for silence, garbage and odd framing.
#include "lib/smtp_client/smtp_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "lib/dns/resolver.hpp"
#include "test_support.hpp"
#include "tests/support/dns_servers.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using test::FakeMx;
using test::ScriptedServer;
using test::Step;
using Status = queue::DeliveryResult::Status;
using Kind = Step::Kind;

struct Mail {
  std::string from = "sender@example.org";
  std::vector<std::string> rcpts = {"user@mx.test"};
  std::string message = "Subject: hello\r\n\r\nHello there.\r\n";
  bool smtputf8 = false;
  bool eightbit = false;
  bool requiretls = false;
};

struct Outcome {
  boost::system::error_code connect;
  queue::DeliveryResult failure;
  TlsResult tls = TlsResult::Plain;
  smtp::EhloInfo ehlo;
  std::vector<TransactionResult> sent;
  std::vector<ProbeStep> steps;
};

// connect, one send() per mail, quit — the way a courier drives a client.
asio::awaitable<Outcome> session(ClientOptions opts, tcp::endpoint ep, std::vector<Mail> mails) {
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  SmtpClient client(ex, opts);
  Outcome out;
  out.connect = co_await client.connect(ep);
  out.failure = client.failure();
  out.tls = client.tls();
  out.ehlo = client.ehlo();
  if (!out.connect) {
    for (const Mail& m : mails) {
      out.sent.push_back(
          co_await client.send(m.from, m.rcpts, m.message, m.smtputf8, m.eightbit, m.requiretls));
    }
  }
  co_await client.quit();
  out.steps = client.steps();
  co_return out;
}

asio::awaitable<TransactionResult> once(ClientOptions opts, tcp::endpoint ep, Mail m) {
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  TransactionResult r =
      co_await deliver_once(ex, opts, ep, m.from, m.rcpts, m.message, m.smtputf8, m.eightbit);
  co_return r;
}

ClientOptions options() {
  ClientOptions o;
  o.helo_name = "client.test";
  o.connect_timeout = 5s;
  o.command_timeout = 5s;
  o.data_timeout = 5s;
  return o;
}

std::vector<std::string> tls_flags() {
  return {"--cert", test::test_cert().cert, "--key", test::test_cert().key};
}

// Runs deliver_once against `ep`; the test fails (and gets an empty result) on a time-out.
TransactionResult deliver(const ClientOptions& opts, const tcp::endpoint& ep, Mail m = {}) {
  asio::io_context io;
  auto r = hk::test::run(io, once(opts, ep, std::move(m)));
  EXPECT_TRUE(r.has_value()) << "deliver_once did not finish in time";
  return r ? *r : TransactionResult{};
}

Outcome drive(asio::io_context& io, const ClientOptions& opts, const tcp::endpoint& ep,
              std::vector<Mail> mails) {
  auto r = hk::test::run(io, session(opts, ep, std::move(mails)));
  EXPECT_TRUE(r.has_value()) << "session did not finish in time";
  return r ? *r : Outcome{};
}

Outcome drive(const ClientOptions& opts, const tcp::endpoint& ep, std::vector<Mail> mails) {
  asio::io_context io;
  return drive(io, opts, ep, std::move(mails));
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(SmtpClient, PlainDelivery) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  Mail m;
  m.rcpts = {"a@mx.test", "b@mx.test"};
  TransactionResult r = deliver(options(), mx.endpoint(), m);
  ASSERT_EQ(r.rcpts.size(), 2u);
  for (const auto& d : r.rcpts) {
    EXPECT_EQ(d.status, Status::Delivered) << d.line();
    EXPECT_TRUE(starts_with(d.line(), "250 2.0.0 OK queued")) << d.line();
  }
  EXPECT_EQ(r.tls, TlsResult::Plain);
  EXPECT_EQ(r.peer, "127.0.0.1:" + std::to_string(mx.endpoint().port()));
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].data, m.message);
  EXPECT_EQ(stored[0].values("from"), std::vector<std::string>{"sender@example.org"});
  EXPECT_EQ(stored[0].values("rcpt"), m.rcpts);
  EXPECT_EQ(stored[0].values("helo"), std::vector<std::string>{"client.test"});
  EXPECT_EQ(stored[0].values("tls"), std::vector<std::string>{"no"});
  // aiosmtpd advertises SIZE, so the client declares the size (RFC 1870 §3).
  EXPECT_EQ(stored[0].values("mail-option"),
            std::vector<std::string>{"SIZE=" + std::to_string(m.message.size())});
}

struct MixedCase {
  bool pipelining;
};

// Per-recipient results, with and without PIPELINING; the chunks the server read show whether
// MAIL, RCPT and DATA went out in one write.
TEST(SmtpClient, MixedRecipientResults) {
  for (bool pipelining : {false, true}) {
    SCOPED_TRACE(pipelining ? "pipelining" : "no pipelining");
    FakeMx mx(pipelining ? std::vector<std::string>{"--pipelining"} : std::vector<std::string>{});
    ASSERT_TRUE(mx.started());
    Mail m;
    m.rcpts = {"ok@mx.test", "reject@mx.test", "later@mx.test", "ok2@mx.test"};
    Outcome o = drive(options(), mx.endpoint(), {m});
    ASSERT_FALSE(o.connect) << o.failure.line();
    EXPECT_EQ(o.ehlo.pipelining, pipelining);
    ASSERT_EQ(o.sent.size(), 1u);
    const auto& r = o.sent[0].rcpts;
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].status, Status::Delivered);
    EXPECT_EQ(r[1].status, Status::Permanent);
    EXPECT_EQ(r[1].line(), "550 5.1.1 no such user");
    // The reply's parts travel separately; line() only joins them for the log.
    EXPECT_EQ(r[1].code, 550);
    EXPECT_EQ(r[1].enhanced, "5.1.1");
    EXPECT_EQ(r[1].text, "no such user");
    EXPECT_EQ(r[2].status, Status::Transient);
    EXPECT_EQ(r[2].line(), "451 4.2.0 try again later");
    EXPECT_EQ(r[3].status, Status::Delivered);
    auto stored = mx.messages();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].values("rcpt"), (std::vector<std::string>{"ok@mx.test", "ok2@mx.test"}));
    bool one_write = false;
    for (const std::string& chunk : stored[0].values("chunk")) {
      one_write = one_write || (contains(chunk, "MAIL FROM") && contains(chunk, "RCPT TO") &&
                                contains(chunk, "DATA"));
    }
    EXPECT_EQ(one_write, pipelining);
  }
}

// Every recipient refused: no message, and the connection stays usable for the next transaction
// (which starts with RSET); with PIPELINING the DATA already sent is refused by the server.
TEST(SmtpClient, AllRecipientsRefusedThenNextTransaction) {
  for (bool pipelining : {false, true}) {
    SCOPED_TRACE(pipelining ? "pipelining" : "no pipelining");
    FakeMx mx(pipelining ? std::vector<std::string>{"--pipelining"} : std::vector<std::string>{});
    ASSERT_TRUE(mx.started());
    Mail bad;
    bad.rcpts = {"reject1@mx.test", "later@mx.test"};
    Mail good;
    good.rcpts = {"fine@mx.test"};
    Outcome o = drive(options(), mx.endpoint(), {bad, good});
    ASSERT_FALSE(o.connect) << o.failure.line();
    ASSERT_EQ(o.sent.size(), 2u);
    EXPECT_EQ(o.sent[0].rcpts[0].status, Status::Permanent);
    EXPECT_EQ(o.sent[0].rcpts[1].status, Status::Transient);
    ASSERT_EQ(o.sent[1].rcpts.size(), 1u);
    EXPECT_EQ(o.sent[1].rcpts[0].status, Status::Delivered) << o.sent[1].rcpts[0].line();
    auto stored = mx.messages();
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].values("rcpt"), std::vector<std::string>{"fine@mx.test"});
  }
}

// The reply to the final dot applies to every accepted recipient, and only to them.
TEST(SmtpClient, DataRefused) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  Mail m;
  m.rcpts = {"a@mx.test", "reject@mx.test", "b@mx.test"};
  m.message = "X-Fail-Data: yes\r\n\r\nbody\r\n";
  TransactionResult r = deliver(options(), mx.endpoint(), m);
  ASSERT_EQ(r.rcpts.size(), 3u);
  EXPECT_EQ(r.rcpts[0].status, Status::Permanent);
  EXPECT_EQ(r.rcpts[0].line(), "554 5.6.0 content rejected");
  EXPECT_EQ(r.rcpts[1].line(), "550 5.1.1 no such user");
  EXPECT_EQ(r.rcpts[2].line(), "554 5.6.0 content rejected");
  EXPECT_TRUE(mx.messages().empty());
}

TEST(SmtpClient, TwoTransactionsOnOneConnection) {
  FakeMx mx({"--pipelining"});
  ASSERT_TRUE(mx.started());
  Mail first;
  first.message = "Subject: one\r\n\r\n1\r\n";
  Mail second;
  second.from = "";
  second.rcpts = {"x@mx.test", "y@mx.test"};
  second.message = "Subject: two\r\n\r\n2\r\n";
  Outcome o = drive(options(), mx.endpoint(), {first, second});
  ASSERT_FALSE(o.connect);
  ASSERT_EQ(o.sent.size(), 2u);
  EXPECT_EQ(o.sent[0].rcpts[0].status, Status::Delivered);
  EXPECT_EQ(o.sent[1].rcpts[1].status, Status::Delivered);
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].data, first.message);
  EXPECT_EQ(stored[1].data, second.message);
  EXPECT_EQ(stored[1].values("from"), std::vector<std::string>{"<>"});
  EXPECT_EQ(o.steps.back().name, "quit");
  EXPECT_TRUE(o.steps.back().ok);
}

TEST(SmtpClient, DotStuffingAndLineEndings) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  Mail m;
  m.message = "Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nbare lf\nend";
  TransactionResult r = deliver(options(), mx.endpoint(), m);
  ASSERT_EQ(r.rcpts.size(), 1u);
  EXPECT_EQ(r.rcpts[0].status, Status::Delivered) << r.rcpts[0].line();
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].data, "Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nbare lf\r\nend\r\n");
}

// A large message goes out in several chunks and arrives whole.
TEST(SmtpClient, LargeMessage) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  Mail m;
  m.message = "Subject: big\r\n\r\n";
  for (int i = 0; i < 20000; ++i) {
    m.message +=
        (i % 7 == 0 ? "." : "") + std::string(60, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  TransactionResult r = deliver(options(), mx.endpoint(), m);
  ASSERT_EQ(r.rcpts.size(), 1u);
  EXPECT_EQ(r.rcpts[0].status, Status::Delivered) << r.rcpts[0].line();
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].data, m.message);
}

struct TlsCase {
  const char* name;
  TlsMode mode;
  bool ca;               // trust the test certificate
  std::string tls_name;  // the name to verify
  TlsResult tls;         // expected result when delivered
  bool delivered;
};

// STARTTLS: opportunistic accepts any certificate and records whether it verified; Required
// insists on a verified one.
TEST(SmtpClient, StartTls) {
  const TlsCase cases[] = {
      {"opportunistic, verified", TlsMode::Opportunistic, true, "mx.test", TlsResult::Verified,
       true},
      {"opportunistic, verified by IP", TlsMode::Opportunistic, true, "127.0.0.1",
       TlsResult::Verified, true},
      {"opportunistic, unknown CA", TlsMode::Opportunistic, false, "mx.test", TlsResult::Unverified,
       true},
      {"opportunistic, wrong name", TlsMode::Opportunistic, true, "other.test",
       TlsResult::Unverified, true},
      {"required, verified", TlsMode::Required, true, "mx.test", TlsResult::Verified, true},
      {"required, wrong name", TlsMode::Required, true, "other.test", TlsResult::Unverified, false},
      {"none", TlsMode::None, true, "mx.test", TlsResult::Plain, true},
  };
  ASSERT_FALSE(test::test_cert().cert.empty());
  for (const TlsCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> flags = tls_flags();
    flags.push_back("--starttls");
    FakeMx mx(flags);
    ASSERT_TRUE(mx.started());
    ClientOptions o = options();
    o.tls = c.mode;
    o.tls_name = c.tls_name;
    if (c.ca) {
      o.ca_file = test::test_cert().cert;
    }
    TransactionResult r = deliver(o, mx.endpoint());
    ASSERT_EQ(r.rcpts.size(), 1u);
    if (c.delivered) {
      EXPECT_EQ(r.rcpts[0].status, Status::Delivered) << r.rcpts[0].line();
      EXPECT_EQ(r.tls, c.tls);
      EXPECT_EQ(r.tls_version.empty(), c.tls == TlsResult::Plain);
      auto stored = mx.messages();
      ASSERT_EQ(stored.size(), 1u);
      EXPECT_EQ(stored[0].values("tls"),
                std::vector<std::string>{c.tls == TlsResult::Plain ? "no" : "yes"});
    } else {
      EXPECT_EQ(r.rcpts[0].status, Status::Transient);
      EXPECT_TRUE(contains(r.rcpts[0].line(), "not verified")) << r.rcpts[0].line();
      EXPECT_TRUE(mx.messages().empty());
    }
  }
}

// RFC 8689 §4.2.1: a REQUIRETLS message goes only over verified TLS to a server that offers
// REQUIRETLS, with the parameter on MAIL FROM; otherwise nothing is sent, every recipient fails
// with 550 5.7.30, and the connection stays good for other mail.
TEST(SmtpClient, RequireTls) {
  struct Case {
    std::string name;
    bool starttls, offers, ca;
    std::string refusal;  // empty: delivered with REQUIRETLS
  };
  const Case cases[] = {
      {"verified, offered", true, true, true, ""},
      {"verified, not offered", true, false, true, "REQUIRETLS is not offered by"},
      {"unverified, offered", true, true, false, "the certificate is not verified for"},
      {"plaintext", false, true, true, "no TLS with"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> flags = tls_flags();
    if (c.starttls) {
      flags.push_back("--starttls");
    }
    if (c.offers) {
      flags.push_back("--requiretls");
    }
    FakeMx mx(flags);
    ASSERT_TRUE(mx.started());
    ClientOptions o = options();
    o.tls_name = "mx.test";
    if (c.ca) {
      o.ca_file = test::test_cert().cert;
    }
    Mail secret;
    secret.requiretls = true;
    Outcome out = drive(o, mx.endpoint(), {secret, Mail{}});
    ASSERT_FALSE(out.connect);
    ASSERT_EQ(out.sent.size(), 2u);
    ASSERT_EQ(out.sent[0].rcpts.size(), 1u);
    const queue::DeliveryResult& r = out.sent[0].rcpts[0];
    auto stored = mx.messages();
    if (c.refusal.empty()) {
      EXPECT_EQ(r.status, Status::Delivered) << r.line();
      EXPECT_FALSE(out.sent[0].requiretls_refused);
      ASSERT_EQ(stored.size(), 2u);
      auto has_requiretls = [](const test::Stored& s) {
        std::vector<std::string> opts = s.values("mail-option");
        return std::find(opts.begin(), opts.end(), "REQUIRETLS") != opts.end();
      };
      EXPECT_TRUE(has_requiretls(stored[0]));
      EXPECT_FALSE(has_requiretls(stored[1]));
    } else {
      EXPECT_EQ(r.status, Status::Permanent);
      EXPECT_EQ(r.code, 550);
      EXPECT_EQ(r.enhanced, "5.7.30");
      EXPECT_TRUE(contains(r.text, "REQUIRETLS support required: " + c.refusal)) << r.line();
      EXPECT_TRUE(out.sent[0].requiretls_refused);
      // Nothing of it was sent; the message without REQUIRETLS went on the same connection.
      ASSERT_EQ(stored.size(), 1u);
      EXPECT_EQ(stored[0].values("session"), std::vector<std::string>{"1"});
    }
    ASSERT_EQ(out.sent[1].rcpts.size(), 1u);
    EXPECT_EQ(out.sent[1].rcpts[0].status, Status::Delivered) << out.sent[1].rcpts[0].line();
  }
}

TEST(SmtpClient, TlsRequiredButNotOffered) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  ClientOptions o = options();
  o.tls = TlsMode::Required;
  Outcome out = drive(o, mx.endpoint(), {Mail{}});
  EXPECT_EQ(out.connect, make_error_code(ClientErrc::TlsUnavailable));
  TransactionResult r = deliver(o, mx.endpoint());
  ASSERT_EQ(r.rcpts.size(), 1u);
  EXPECT_EQ(r.rcpts[0].status, Status::Transient);
  EXPECT_TRUE(contains(r.rcpts[0].line(), "does not offer STARTTLS")) << r.rcpts[0].line();
  EXPECT_TRUE(mx.messages().empty());
}

TEST(SmtpClient, ImplicitTls) {
  std::vector<std::string> flags = tls_flags();
  flags.push_back("--implicit-tls");
  FakeMx mx(flags);
  ASSERT_TRUE(mx.started());
  ClientOptions o = options();
  o.tls = TlsMode::Implicit;
  o.tls_name = "mx.test";
  o.ca_file = test::test_cert().cert;
  TransactionResult r = deliver(o, mx.endpoint());
  ASSERT_EQ(r.rcpts.size(), 1u);
  EXPECT_EQ(r.rcpts[0].status, Status::Delivered) << r.rcpts[0].line();
  EXPECT_EQ(r.tls, TlsResult::Verified);
  ASSERT_EQ(mx.messages().size(), 1u);
  EXPECT_EQ(mx.messages()[0].values("tls"), std::vector<std::string>{"yes"});
}

// Implicit TLS against a plaintext server: the handshake fails and nothing is retried here.
TEST(SmtpClient, ImplicitTlsAgainstPlainServer) {
  FakeMx mx;
  ASSERT_TRUE(mx.started());
  ClientOptions o = options();
  o.tls = TlsMode::Implicit;
  TransactionResult r = deliver(o, mx.endpoint());
  ASSERT_EQ(r.rcpts.size(), 1u);
  EXPECT_EQ(r.rcpts[0].status, Status::Transient);
  EXPECT_TRUE(contains(r.rcpts[0].line(), "TLS handshake")) << r.rcpts[0].line();
}

// Implicit TLS whose certificate does not verify: the client leaves before the greeting, and
// sends no QUIT (it would be answered by the 220 greeting, which would then be read as the QUIT
// reply: what test-relay used to print).
TEST(SmtpClient, ImplicitTlsUnverifiedLeavesWithoutQuit) {
  std::vector<std::string> flags = tls_flags();
  flags.push_back("--implicit-tls");
  FakeMx mx(flags);
  ASSERT_TRUE(mx.started());
  ClientOptions o = options();
  o.tls = TlsMode::Implicit;
  o.tls_name = "mx.test";  // ca_file empty: the system roots, which do not know the test CA
  asio::io_context io;
  Outcome out = drive(io, o, mx.endpoint(), {});
  EXPECT_TRUE(out.connect);
  EXPECT_TRUE(contains(out.failure.line(), "certificate")) << out.failure.line();
  for (const ProbeStep& s : out.steps) {
    EXPECT_NE(s.name, "greeting") << s.detail;
    EXPECT_NE(s.name, "quit") << s.detail;
  }
  EXPECT_TRUE(mx.messages().empty());
}

struct AuthCase {
  const char* name;
  std::vector<std::string> server;  // extra fake_mx flags
  TlsMode mode;
  std::string password;
  Status status;
  std::string reply_start;  // the result text starts with this
};

TEST(SmtpClient, Auth) {
  const std::vector<std::string> tls = {"--starttls"};
  const AuthCase cases[] = {
      {"good credentials over STARTTLS", tls, TlsMode::Opportunistic, "secret", Status::Delivered,
       "250 "},
      {"bad credentials", tls, TlsMode::Opportunistic, "wrong", Status::Permanent, "535 5.7.8"},
      {"refused over plaintext",
       {"--auth-plaintext"},
       TlsMode::Opportunistic,
       "secret",
       Status::Transient,
       "AUTH not attempted"},
      {"plaintext allowed by tls = none",
       {"--auth-plaintext"},
       TlsMode::None,
       "secret",
       Status::Delivered,
       "250 "},
      {"no AUTH offered before TLS", {}, TlsMode::None, "secret", Status::Transient, "127.0.0.1"},
  };
  for (const AuthCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> flags = tls_flags();
    flags.insert(flags.end(), c.server.begin(), c.server.end());
    flags.push_back("--auth");
    flags.push_back("relayuser:secret");
    FakeMx mx(flags);
    ASSERT_TRUE(mx.started());
    ClientOptions o = options();
    o.tls = c.mode;
    o.username = "relayuser";
    o.password = c.password;
    TransactionResult r = deliver(o, mx.endpoint());
    ASSERT_EQ(r.rcpts.size(), 1u);
    EXPECT_EQ(r.rcpts[0].status, c.status) << r.rcpts[0].line();
    EXPECT_TRUE(starts_with(r.rcpts[0].line(), c.reply_start)) << r.rcpts[0].line();
    auto stored = mx.messages();
    EXPECT_EQ(stored.size(), c.status == Status::Delivered ? 1u : 0u);
    if (!stored.empty()) {
      EXPECT_EQ(stored[0].values("auth"), std::vector<std::string>{"relayuser"});
    }
  }
}

struct ExtensionCase {
  const char* name;
  bool server_smtputf8;
  bool smtputf8;
  bool eightbit;
  Status status;
  std::vector<std::string> options;  // MAIL parameters the server saw, SIZE= left out
};

TEST(SmtpClient, Extensions) {
  const ExtensionCase cases[] = {
      {"7bit", true, false, false, Status::Delivered, {}},
      {"8bit", true, false, true, Status::Delivered, {"BODY=8BITMIME"}},
      {"SMTPUTF8", true, true, true, Status::Delivered, {"BODY=8BITMIME", "SMTPUTF8"}},
      {"SMTPUTF8 to a server without it", false, true, true, Status::Permanent, {}},
  };
  for (const ExtensionCase& c : cases) {
    SCOPED_TRACE(c.name);
    FakeMx mx(c.server_smtputf8 ? std::vector<std::string>{}
                                : std::vector<std::string>{"--no-smtputf8"});
    ASSERT_TRUE(mx.started());
    Mail m;
    m.smtputf8 = c.smtputf8;
    m.eightbit = c.eightbit;
    if (c.smtputf8) {
      m.rcpts = {"用户@mx.test"};
      m.message = "Subject: héllo\r\n\r\nünïcödé\r\n";
    }
    TransactionResult r = deliver(options(), mx.endpoint(), m);
    ASSERT_EQ(r.rcpts.size(), 1u);
    EXPECT_EQ(r.rcpts[0].status, c.status) << r.rcpts[0].line();
    auto stored = mx.messages();
    if (c.status != Status::Delivered) {
      EXPECT_TRUE(starts_with(r.rcpts[0].line(), "554 5.6.7")) << r.rcpts[0].line();
      EXPECT_TRUE(stored.empty());
      continue;
    }
    ASSERT_EQ(stored.size(), 1u);
    std::vector<std::string> seen;
    for (const std::string& opt : stored[0].values("mail-option")) {
      if (!starts_with(opt, "SIZE=")) {
        seen.push_back(opt);
      }
    }
    EXPECT_EQ(seen, c.options);
    EXPECT_EQ(stored[0].data, m.message);
    EXPECT_EQ(stored[0].values("rcpt"), m.rcpts);
  }
}

TEST(SmtpClient, ConnectionRefused) {
  tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), hk::test::free_port());
  Mail m;
  m.rcpts = {"a@mx.test", "b@mx.test"};
  TransactionResult r = deliver(options(), ep, m);
  ASSERT_EQ(r.rcpts.size(), 2u);
  for (const auto& d : r.rcpts) {
    EXPECT_EQ(d.status, Status::Transient);
    EXPECT_EQ(d.line(), "connection refused by 127.0.0.1:" + std::to_string(ep.port()));
    EXPECT_EQ(d.code, 0);  // our own text: no reply code
    EXPECT_EQ(d.enhanced, "");
  }
}

// A server that accepts and never speaks: the greeting times out after command_timeout.
TEST(SmtpClient, SilentServerTimesOut) {
  asio::io_context io;
  ScriptedServer server(io, {{Kind::Hold, ""}});
  ClientOptions o = options();
  o.command_timeout = 1s;
  auto start = std::chrono::steady_clock::now();
  auto r = hk::test::run(io, once(o, server.endpoint(), Mail{}));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rcpts.size(), 1u);
  EXPECT_EQ(r->rcpts[0].status, Status::Transient);
  EXPECT_TRUE(starts_with(r->rcpts[0].line(), "timeout waiting for greeting from 127.0.0.1:"))
      << r->rcpts[0].line();
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 4s);
}

// The server takes the message and never answers the final dot.
TEST(SmtpClient, FinalReplyTimesOut) {
  asio::io_context io;
  ScriptedServer server(io, {{Kind::Send, "220 mx.test ESMTP\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "250-mx.test\r\n250 8BITMIME\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "250 2.1.0 ok\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "250 2.1.5 ok\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "354 go ahead\r\n"},
                             {Kind::ExpectData, ""},
                             {Kind::Hold, ""}});
  ClientOptions o = options();
  o.data_timeout = 1s;
  auto r = hk::test::run(io, once(o, server.endpoint(), Mail{}));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rcpts.size(), 1u);
  EXPECT_EQ(r->rcpts[0].status, Status::Transient);
  EXPECT_TRUE(starts_with(r->rcpts[0].line(), "timeout waiting for final DATA reply from"))
      << r->rcpts[0].line();
  ASSERT_EQ(server.received().size(), 5u);
  EXPECT_EQ(server.received()[0], "EHLO client.test\r\n");
  EXPECT_EQ(server.received()[1], "MAIL FROM:<sender@example.org>\r\n");
  EXPECT_EQ(server.received()[3], "DATA\r\n");
  EXPECT_EQ(server.received()[4], "Subject: hello\r\n\r\nHello there.\r\n.\r\n");
}

struct BadServerCase {
  const char* name;
  std::vector<Step> script;
  std::string reply_start;
};

TEST(SmtpClient, MisbehavingServers) {
  const BadServerCase cases[] = {
      {"garbage greeting",
       {{Kind::Send, "HTTP/1.1 400 Bad Request\r\n\r\n"}, {Kind::Hold, ""}},
       "protocol error: malformed greeting from 127.0.0.1:"},
      {"code changes mid-reply",
       {{Kind::Send, "220-mx.test\r\n250 oops\r\n"}, {Kind::Hold, ""}},
       "protocol error: malformed greeting"},
      {"closes mid-reply",
       {{Kind::Send, "220-mx.test\r\n"}, {Kind::Close, ""}},
       "connection closed by 127.0.0.1:"},
      {"endless line",
       {{Kind::Send, "220 " + std::string(70000, 'x')}, {Kind::Hold, ""}},
       "protocol error: over-long greeting"},
      {"554 greeting",
       {{Kind::Send, "554 5.3.2 no service\r\n"}, {Kind::Expect, ""}, {Kind::Send, "221 bye\r\n"}},
       "554 5.3.2 no service"},
      {"EHLO and HELO refused",
       {{Kind::Send, "220 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "502 5.5.1 no\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "550 5.7.1 go away\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "221 bye\r\n"}},
       "550 5.7.1 go away"},
      {"MAIL reply cut short",
       {{Kind::Send, "220 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "250 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "250-2.1.0 first line\r\n"},
        {Kind::Close, ""}},
       "connection closed by 127.0.0.1:"},
      {"STARTTLS reply followed by injected data",
       {{Kind::Send, "220 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "250-mx.test\r\n250 STARTTLS\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "220 go ahead\r\n250 injected\r\n"},
        {Kind::Hold, ""}},
       "protocol error: 127.0.0.1:"},
      {"421 to RCPT",
       {{Kind::Send, "220 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "250 mx.test\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "250 ok\r\n"},
        {Kind::Expect, ""},
        {Kind::Send, "421 4.3.2 shutting down\r\n"},
        {Kind::Close, ""}},
       "421 4.3.2 shutting down"},
  };
  for (const BadServerCase& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context io;
    ScriptedServer server(io, c.script);
    auto start = std::chrono::steady_clock::now();
    auto r = hk::test::run(io, once(options(), server.endpoint(), Mail{}));
    ASSERT_TRUE(r.has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    ASSERT_EQ(r->rcpts.size(), 1u);
    EXPECT_EQ(r->rcpts[0].status, Status::Transient) << r->rcpts[0].line();
    EXPECT_TRUE(starts_with(r->rcpts[0].line(), c.reply_start)) << r->rcpts[0].line();
  }
}

// Replies split across reads at odd places, a text line far over 512 octets, and an EHLO that
// falls back to HELO: the session still comes up.
TEST(SmtpClient, OddFramingAndHeloFallback) {
  asio::io_context io;
  ScriptedServer server(io, {{Kind::Send, "22", 30},
                             {Kind::Send, "0-mx.test hello\r", 30},
                             {Kind::Send, "\n220-" + std::string(2000, 'y') + "\r\n220", 30},
                             {Kind::Send, " ready\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "500 5.5.1 what\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "250 mx.test\r\n"},
                             {Kind::Expect, ""},
                             {Kind::Send, "221 bye\r\n"},
                             {Kind::Close, ""}});
  Mail eight;
  eight.eightbit = true;
  Outcome o = drive(io, options(), server.endpoint(), {eight});
  EXPECT_FALSE(o.connect) << o.failure.line();
  ASSERT_EQ(o.sent.size(), 1u);
  // HELO means no extensions: an 8-bit message is refused here rather than sent (RFC 6152 §3).
  EXPECT_EQ(o.sent[0].rcpts[0].status, Status::Permanent);
  EXPECT_TRUE(starts_with(o.sent[0].rcpts[0].line(), "554 5.6.3")) << o.sent[0].rcpts[0].line();
  ASSERT_EQ(server.received().size(), 3u);
  EXPECT_EQ(server.received()[0], "EHLO client.test\r\n");
  EXPECT_EQ(server.received()[1], "HELO client.test\r\n");
  EXPECT_EQ(server.received()[2], "QUIT\r\n");
}

// A resolver that is never asked (address literals need no lookup): a closed loopback port.
dns::Resolver::Options unused_dns() {
  dns::Resolver::Options o;
  o.servers = {"127.0.0.1:" + std::to_string(hk::test::free_port())};
  o.timeout = 200ms;
  o.attempts = 1;
  return o;
}

TEST(SmtpClient, ProbeRelay) {
  std::vector<std::string> flags = tls_flags();
  flags.insert(flags.end(), {"--starttls", "--auth", "relayuser:secret"});
  FakeMx mx(flags);
  ASSERT_TRUE(mx.started());
  ClientOptions o = options();
  o.tls = TlsMode::Required;
  o.ca_file = test::test_cert().cert;
  o.username = "relayuser";
  o.password = "secret";
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), unused_dns());
  auto steps = hk::test::run(
      io, probe(io.get_executor(), o, resolver, {}, "127.0.0.1", mx.endpoint().port()));
  ASSERT_TRUE(steps.has_value());
  std::vector<std::string> names;
  for (const ProbeStep& s : *steps) {
    names.push_back(s.name);
    EXPECT_TRUE(s.ok) << s.name << ": " << s.detail;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"resolve", "connect", "greeting", "ehlo", "starttls",
                                             "tls", "ehlo", "auth", "quit"}));
  EXPECT_TRUE(mx.messages().empty());

  // A closed port: the connect step says so and nothing follows.
  asio::io_context io2;
  dns::Resolver resolver2(io2.get_executor(), unused_dns());
  auto failed = hk::test::run(
      io2, probe(io2.get_executor(), o, resolver2, {}, "127.0.0.1", hk::test::free_port()));
  ASSERT_TRUE(failed.has_value());
  ASSERT_EQ(failed->size(), 2u);
  EXPECT_EQ((*failed)[1].name, "connect");
  EXPECT_FALSE((*failed)[1].ok);
  EXPECT_TRUE(starts_with((*failed)[1].detail, "connection refused by")) << (*failed)[1].detail;
}

// The relay's name is resolved through the resolver handed in (the configured [dns] servers),
// and a test message goes through after AUTH, its final reply reported.
TEST(SmtpClient, ProbeResolvesThroughDnsAndSends) {
  std::vector<std::string> flags = tls_flags();
  flags.insert(flags.end(), {"--starttls", "--auth", "relayuser:secret"});
  FakeMx mx(flags);
  ASSERT_TRUE(mx.started());
  dns::test::Dnsmasq dnsmasq({"--host-record=relay.test,127.0.0.1"});
  ASSERT_NE(dnsmasq.port(), 0);
  dns::Resolver::Options dns_opts;
  dns_opts.servers = {dnsmasq.server()};
  ClientOptions o = options();
  o.tls = TlsMode::Required;
  o.ca_file = test::test_cert().cert;
  o.tls_name = "127.0.0.1";  // the name the test certificate holds
  o.username = "relayuser";
  o.password = "secret";
  ProbeMessage message{"postmaster@client.test",
                       {"someone@example.org"},
                       "From: postmaster@client.test\r\nSubject: t\r\n\r\nbody\r\n"};
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), dns_opts);
  auto steps = hk::test::run(io, probe(io.get_executor(), o, resolver, {true, false, true},
                                       "relay.test", mx.endpoint().port(), message));
  ASSERT_TRUE(steps.has_value());
  ASSERT_GE(steps->size(), 3u);
  EXPECT_EQ(steps->front().detail, "relay.test -> 127.0.0.1");
  const ProbeStep& send = (*steps)[steps->size() - 2];
  EXPECT_EQ(send.name, "send");
  EXPECT_TRUE(send.ok) << send.detail;
  EXPECT_TRUE(starts_with(send.detail, "250")) << send.detail;
  EXPECT_EQ(steps->back().name, "quit");
  const std::vector<test::Stored> got = mx.messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].values("from"), std::vector<std::string>{"postmaster@client.test"});
  EXPECT_EQ(got[0].values("rcpt"), std::vector<std::string>{"someone@example.org"});

  // A name nobody knows: the resolve step fails with the DNS error, and nothing follows.
  asio::io_context io2;
  dns::Resolver resolver2(io2.get_executor(), dns_opts);
  auto unknown = hk::test::run(
      io2, probe(io2.get_executor(), o, resolver2, {}, "nowhere.test", mx.endpoint().port()));
  ASSERT_TRUE(unknown.has_value());
  ASSERT_EQ(unknown->size(), 1u);
  EXPECT_FALSE(unknown->front().ok);
  EXPECT_NE(unknown->front().detail.find("NXDOMAIN"), std::string::npos) << unknown->front().detail;

  // A refused recipient: the send step fails with the server's reply.
  asio::io_context io3;
  dns::Resolver resolver3(io3.get_executor(), dns_opts);
  message.rcpts = {"reject-550@example.org"};
  auto refused = hk::test::run(io3, probe(io3.get_executor(), o, resolver3, {}, "relay.test",
                                          mx.endpoint().port(), message));
  ASSERT_TRUE(refused.has_value());
  const ProbeStep& no = (*refused)[refused->size() - 2];
  EXPECT_EQ(no.name, "send");
  EXPECT_FALSE(no.ok);
  EXPECT_TRUE(starts_with(no.detail, "550")) << no.detail;
}

}  // namespace
}  // namespace hk::delivery
