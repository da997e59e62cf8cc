// DSNs are DKIM-signed: which domain a DSN comes from (dsn_identity), and that the signature made
// by sign_dsn() over a real make_dsn() report verifies with our verifier (libopendkim).
#include "daemon/server/bounce.hpp"

#include <gtest/gtest.h>

#include "../domains/domains_fixture.hpp"
#include "daemon/queue/dsn.hpp"
#include "domains/domains.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dkim/verify.hpp"

namespace hk::server {
namespace {

class Bounce : public ::testing::Test {
 protected:
  Bounce() {
    dir_.write("domains/example.test/users", domains::test::users_file({"alice"}));
    dir_.write("domains/example.test/aliases", "fwd: someone@remote.test\n");
    dir_.write("domains/nokey.test/users", domains::test::users_file({"carol"}));
    dir_.write("domains/hikyaku.test/users", domains::test::users_file({"postmaster"}));
    doms_ = domains::Domains::load(dir_.path() / "domains");
    for (const char* domain : {"example.test", "hikyaku.test"}) {
      keys_[domain].push_back(dkim::parse_key(dkim::generate_key_pem(dkim::DkimAlgo::Ed25519),
                                              domain, "s1", "test key"));
    }
  }

  static queue::Recipient rcpt(std::string address, std::string original = "") {
    queue::Recipient r;
    r.address = std::move(address);
    r.original = original.empty() ? r.address : std::move(original);
    r.state = queue::RcptState::Failed;
    r.last_code = 550;
    r.last_enhanced = "5.1.1";
    r.last_text = "no such user";
    return r;
  }

  DsnIdentity identity(const std::string& hostname, const std::string& from,
                       std::vector<queue::Recipient> rcpts) {
    queue::Envelope env;
    env.from = from;
    return dsn_identity(hostname, env, rcpts, *doms_, keys_);
  }

  domains::test::TempDir dir_;
  std::shared_ptr<const domains::Domains> doms_;
  dkim::Keys keys_;
};

TEST_F(Bounce, IdentityPrefersADomainOfOursWithAKey) {
  struct Case {
    std::string hostname, from;
    std::vector<queue::Recipient> rcpts;
    std::string postmaster, sign_domain;
  };
  const Case cases[] = {
      // Our alias forwarded to a remote address that failed: the DSN comes from our domain.
      {"mx.other.test",
       "stranger@remote.test",
       {rcpt("someone@remote.test", "fwd@example.test")},
       "postmaster@example.test",
       "example.test"},
      // Our user's mail to a remote address: the sender's domain.
      {"mx.other.test",
       "alice@example.test",
       {rcpt("bob@remote.test")},
       "postmaster@example.test",
       "example.test"},
      // Neither is ours with a key: the hostname's parent domain signs, From stays the hostname.
      {"mx.hikyaku.test",
       "carol@nokey.test",
       {rcpt("bob@remote.test")},
       "postmaster@mx.hikyaku.test",
       "hikyaku.test"},
      {"hikyaku.test",
       "x@remote.test",
       {rcpt("bob@remote.test")},
       "postmaster@hikyaku.test",
       "hikyaku.test"},
      // No key anywhere: unsigned, from the hostname, as before.
      {"mx.other.test", "x@remote.test", {rcpt("bob@remote.test")}, "postmaster@mx.other.test", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hostname + " " + c.from);
    DsnIdentity who = identity(c.hostname, c.from, c.rcpts);
    EXPECT_EQ(who.postmaster, c.postmaster);
    EXPECT_EQ(who.sign_domain, c.sign_domain);
  }
}

TEST_F(Bounce, SignedDsnVerifies) {
  queue::Envelope env;
  env.id = "1K0YGE493PY941M693M";
  env.from = "alice@example.test";
  env.created = std::chrono::system_clock::from_time_t(1718000000);
  env.rcpts = {rcpt("bob@remote.test")};
  DsnIdentity who = identity("mx.hikyaku.test", env.from, env.rcpts);
  ASSERT_EQ(who.sign_domain, "example.test");
  queue::DsnInput in{env,
                     {&env.rcpts[0]},
                     "From: alice@example.test\r\nSubject: hi\r\n\r\nhello\r\n",
                     "mx.hikyaku.test",
                     who.postmaster,
                     1718003600};
  std::optional<queue::Dsn> dsn = queue::make_dsn(in);
  ASSERT_TRUE(dsn);
  dkim::DkimSigner signer;
  std::vector<std::string> errors;
  std::string headers = sign_dsn(signer, keys_, who.sign_domain, dsn->message, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_NE(headers.find("d=example.test"), std::string::npos) << headers;
  const std::string signed_message = headers + dsn->message;
  const std::string txt = dkim::dns_txt_value(keys_.at("example.test").front());
  dkim::DkimVerifyResult v = dkim::verify_with_key(signed_message, txt);
  EXPECT_EQ(v.result, "pass") << v.detail;
  EXPECT_EQ(v.domain, "example.test");
  // Our verifier fails it once the body changes: the signature covers the report.
  std::string tampered = signed_message;
  tampered.replace(tampered.find("no such user"), 12, "no such USER");
  EXPECT_EQ(dkim::verify_with_key(tampered, txt).result, "fail");

  errors.clear();
  EXPECT_EQ(sign_dsn(signer, keys_, "nokey.test", dsn->message, errors), "");
  EXPECT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace hk::server
