// Tests for the MTA-STS policy fetch client against policy_server.py (Python's http.server in
// TLS) on loopback: a good fetch, every refusal RFC 8461 §3.3 asks for, and the time limit.
#include "lib/http/https_get.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "lib/smtp_client/smtp_client.hpp"
#include "test_support.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* kPolicy =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.test\r\nmax_age: 86400\r\n";

class HttpsGetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(test::test_cert().cert.empty());
    dir_.write("policy.txt", kPolicy);
    std::string error;
    ctx_ = make_client_tls_context(test::test_cert().cert, error);
    ASSERT_TRUE(ctx_) << error;
  }

  std::vector<std::string> flags(std::vector<std::string> extra) const {
    std::vector<std::string> f = {"--cert",   test::test_cert().cert,
                                  "--key",    test::test_cert().key,
                                  "--policy", (dir_.path() / "policy.txt").string()};
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
  }

  // Fetches from 127.0.0.1:`port` as `host` (the test certificate is for mx.test).
  HttpsResult get(uint16_t port, std::string host = "mx.test", std::chrono::seconds timeout = 5s) {
    HttpsRequest req;
    req.host = std::move(host);
    req.path = "/.well-known/mta-sts.txt";
    req.port = port;
    req.timeout = timeout;
    auto r = hk::test::run(
        io_,
        https_get(io_.get_executor(), *ctx_, {asio::ip::make_address("127.0.0.1")}, std::move(req)),
        15s);
    EXPECT_TRUE(r.has_value()) << "fetch did not finish";
    return r ? *r : HttpsResult{};
  }

  hk::test::TempDir dir_;
  asio::io_context io_;
  std::shared_ptr<asio::ssl::context> ctx_;
};

TEST_F(HttpsGetTest, FetchesThePolicy) {
  test::PolicyServer srv(flags({}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kPolicy);
}

TEST_F(HttpsGetTest, MediaTypeWithParameters) {
  test::PolicyServer srv(flags({"--content-type", "text/plain; charset=utf-8"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(HttpsGetTest, WithoutContentLengthRequiresACleanEnd) {
  // Python closes without a TLS close_notify: with no length, a truncation cannot be told from
  // the end of the body, so the fetch fails rather than accept a possibly cut policy.
  test::PolicyServer srv(flags({"--no-length"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
}

TEST_F(HttpsGetTest, RefusesOtherStatus) {
  test::PolicyServer srv(flags({"--status", "404"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.error.find("HTTP status 404"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesRedirects) {
  test::PolicyServer srv(flags({"--redirect"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 301);
  EXPECT_NE(r.error.find("redirects are not followed"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesOversizeBody) {
  test::PolicyServer srv(flags({"--big", "70000"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("larger than 65536"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesOversizeBodyWithoutLength) {
  test::PolicyServer srv(flags({"--big", "70000", "--no-length"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("larger than 65536"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, DecodesAChunkedBody) {
  test::PolicyServer srv(flags({"--chunked"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.body, kPolicy);
}

TEST_F(HttpsGetTest, RefusesOversizeChunkedBody) {
  test::PolicyServer srv(flags({"--chunked", "--big", "70000"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("larger than 65536"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesAContentCoding) {
  test::PolicyServer srv(flags({"--content-encoding", "gzip"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("unexpected transfer or content encoding"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesOversizeHeader) {
  test::PolicyServer srv(flags({"--big-header", "20000"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("response header too large"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesATruncatedBody) {
  test::PolicyServer srv(flags({"--truncate"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("response truncated"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesOtherMediaType) {
  test::PolicyServer srv(flags({"--content-type", "text/html"}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("not text/plain"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, TimesOut) {
  test::PolicyServer srv(flags({"--hang"}));
  ASSERT_TRUE(srv.started());
  auto start = std::chrono::steady_clock::now();
  HttpsResult r = get(srv.port(), "mx.test", 1s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(HttpsGetTest, RefusesACertificateForAnotherName) {
  test::PolicyServer srv(flags({}));
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port(), "mta-sts.other.test");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, RefusesAnUntrustedCertificate) {
  // A certificate for the right name that no trusted root signed.
  test::TestCert other = test::make_cert(dir_.path(), {"mx.test"});
  ASSERT_FALSE(other.cert.empty());
  test::PolicyServer srv({"--cert", other.cert, "--key", other.key, "--policy",
                          (dir_.path() / "policy.txt").string()});
  ASSERT_TRUE(srv.started());
  HttpsResult r = get(srv.port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
}

TEST_F(HttpsGetTest, ConnectionRefused) {
  HttpsResult r = get(hk::test::free_port());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace hk::delivery
