// SmtpClient's DANE mode (OpenSSL's TLSA matching) and the plaintext retry of opportunistic TLS,
// against fake_mx.py on loopback with the test certificate.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/smtp_client/smtp_client.hpp"
#include "test_support.hpp"
#include "tests/support/run.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using Status = queue::DeliveryResult::Status;

ClientOptions options(TlsMode mode, std::string name) {
  ClientOptions o;
  o.helo_name = "client.test";
  o.tls = mode;
  o.tls_name = std::move(name);
  o.connect_timeout = 5s;
  o.command_timeout = 5s;
  o.data_timeout = 5s;
  return o;
}

struct Result {
  boost::system::error_code connect;
  TlsResult tls = TlsResult::Plain;
  std::string fallback;
  queue::DeliveryResult failure;
  std::vector<queue::DeliveryResult> rcpts;
};

asio::awaitable<Result> session(ClientOptions opts, tcp::endpoint ep) {
  SmtpClient client(co_await asio::this_coro::executor, opts);
  Result out;
  out.connect = co_await client.connect(ep);
  out.failure = client.failure();
  out.tls = client.tls();
  out.fallback = client.tls_fallback();
  if (!out.connect) {
    // Named arguments: GCC 12 mishandles temporaries inside a co_await expression.
    const std::vector<std::string> to = {"b@mx.test"};
    const std::string from = "a@example.org";
    const std::string message = "Subject: x\r\n\r\nx\r\n";
    TransactionResult r = co_await client.send(from, to, message, false, false);
    out.rcpts = r.rcpts;
  }
  co_await client.quit();
  co_return out;
}

Result run(const ClientOptions& opts, const tcp::endpoint& ep) {
  asio::io_context io;
  auto r = hk::test::run(io, session(opts, ep));
  EXPECT_TRUE(r.has_value()) << "the session did not finish in time";
  return r ? *r : Result{};
}

std::vector<std::string> starttls(bool broken = false) {
  std::vector<std::string> f = {"--starttls", "--cert", test::test_cert().cert, "--key",
                                test::test_cert().key};
  if (broken) {
    f.push_back("--broken-tls");
  }
  return f;
}

// The certificate's DER (selector 0) or its SubjectPublicKeyInfo's (selector 1), as is or
// hashed with SHA-256.
std::vector<unsigned char> association(int selector, bool sha256) {
  std::FILE* f = std::fopen(test::test_cert().cert.c_str(), "r");
  EXPECT_NE(f, nullptr);
  if (f == nullptr) {
    return {};
  }
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  unsigned char* der = nullptr;
  int len =
      selector == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  std::vector<unsigned char> out(der, der + len);
  OPENSSL_free(der);
  X509_free(cert);
  if (sha256) {
    std::vector<unsigned char> md(32);
    unsigned int n = 0;
    EVP_Digest(out.data(), out.size(), md.data(), &n, EVP_sha256(), nullptr);
    return md;
  }
  return out;
}

TEST(SmtpClientDane, MatchingEeRecordAuthenticatesWhateverTheName) {
  test::FakeMx mx(starttls());
  ASSERT_TRUE(mx.started());
  // DANE-EE ignores names (RFC 7672 §3.1.1): the certificate is for mx.test.
  ClientOptions o = options(TlsMode::Dane, "elsewhere.example");
  for (const dns::TlsaRecord& r : {dns::TlsaRecord{3, 1, 1, association(1, true)},
                                   dns::TlsaRecord{3, 0, 0, association(0, false)}}) {
    o.tlsa = {dns::TlsaRecord{3, 1, 1, std::vector<unsigned char>(32, 0)}, r};
    Result got = run(o, mx.endpoint());
    EXPECT_FALSE(got.connect) << got.failure.line();
    EXPECT_EQ(got.tls, TlsResult::Dane);
    EXPECT_TRUE(is_verified(got.tls));
    ASSERT_EQ(got.rcpts.size(), 1u);
    EXPECT_EQ(got.rcpts[0].status, Status::Delivered);
  }
}

TEST(SmtpClientDane, MismatchIsRefusedBeforeAnyMail) {
  test::FakeMx mx(starttls());
  ASSERT_TRUE(mx.started());
  ClientOptions o = options(TlsMode::Dane, "mx.test");
  o.ca_file = test::test_cert().cert;  // the roots would accept it: DANE must not fall back
  o.tlsa = {dns::TlsaRecord{3, 1, 1, std::vector<unsigned char>(32, 0xab)}};
  Result got = run(o, mx.endpoint());
  EXPECT_EQ(got.connect, make_error_code(ClientErrc::TlsUnverified));
  EXPECT_NE(got.failure.line().find("does not match the TLSA records of mx.test"),
            std::string::npos)
      << got.failure.line();
  EXPECT_TRUE(mx.messages().empty());
}

TEST(SmtpClientDane, NoStartTlsNoMail) {
  test::FakeMx mx;
  ASSERT_TRUE(mx.started());
  ClientOptions o = options(TlsMode::Dane, "mx.test");
  o.tlsa = {dns::TlsaRecord{3, 1, 1, association(1, true)}};
  EXPECT_EQ(run(o, mx.endpoint()).connect, make_error_code(ClientErrc::TlsUnavailable));
  // Encrypt (unusable TLSA records) also insists on STARTTLS ...
  EXPECT_EQ(run(options(TlsMode::Encrypt, "mx.test"), mx.endpoint()).connect,
            make_error_code(ClientErrc::TlsUnavailable));
  EXPECT_TRUE(mx.messages().empty());
}

TEST(SmtpClientDane, EncryptAcceptsAnyCertificate) {
  test::FakeMx mx(starttls());
  ASSERT_TRUE(mx.started());
  Result got = run(options(TlsMode::Encrypt, "mx.test"), mx.endpoint());
  EXPECT_FALSE(got.connect) << got.failure.line();
  EXPECT_EQ(got.tls, TlsResult::Unverified);
  EXPECT_EQ(mx.messages().size(), 1u);
}

TEST(SmtpClientPlaintextRetry, BrokenHandshakeThenPlaintextOnANewConnection) {
  test::FakeMx mx(starttls(true));
  ASSERT_TRUE(mx.started());
  ClientOptions o = options(TlsMode::Opportunistic, "mx.test");
  o.plaintext_retry = true;
  Result got = run(o, mx.endpoint());
  EXPECT_FALSE(got.connect) << got.failure.line();
  EXPECT_EQ(got.tls, TlsResult::Plain);
  EXPECT_NE(got.fallback.find("TLS handshake"), std::string::npos) << got.fallback;
  auto stored = mx.messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].values("tls"), std::vector<std::string>{"no"});
  EXPECT_EQ(stored[0].values("session"), std::vector<std::string>{"2"});
}

TEST(SmtpClientPlaintextRetry, OnlyWhenAskedAndOnlyOpportunistic) {
  test::FakeMx mx(starttls(true));
  ASSERT_TRUE(mx.started());
  Result plain = run(options(TlsMode::Opportunistic, "mx.test"), mx.endpoint());
  EXPECT_EQ(plain.connect, make_error_code(ClientErrc::TlsFailed));
  EXPECT_TRUE(plain.fallback.empty());
  ClientOptions required = options(TlsMode::Required, "mx.test");
  required.plaintext_retry = true;  // ignored: TLS is required
  EXPECT_EQ(run(required, mx.endpoint()).connect, make_error_code(ClientErrc::TlsFailed));
  EXPECT_TRUE(mx.messages().empty());
}

}  // namespace
}  // namespace hk::delivery
