// SRS at RCPT time: which recipients are SRS addresses of ours and what they stand for, and which
// forwards get an SRS sender.
#include "daemon/server/forwarding.hpp"

#include <gtest/gtest.h>

#include "../domains/domains_fixture.hpp"
#include "domains/domains.hpp"
#include "lib/config/config.hpp"

namespace hk::server {
namespace {

constexpr int64_t kDay = 20000;

class Forwarding : public ::testing::Test {
 protected:
  Forwarding() {
    dir_.write("domains/example.test/users", domains::test::users_file({"alice", "bob"}));
    dir_.write("domains/example.test/aliases", "fwd: someone@remote.test, bob\nteam: alice, bob\n");
    dir_.write("domains/catchall.test/aliases", "*: me@inbox.test\n");
    doms_ = domains::Domains::load(dir_.path() / "domains");
    scope_.codec = &codec_;
    scope_.cfg = &cfg_;
    scope_.doms = doms_.get();
    scope_.day = kDay;
  }

  static smtp::Address addr(const std::string& a) {
    smtp::Address out;
    out.local = a.substr(0, a.rfind('@'));
    out.domain = a.substr(a.rfind('@') + 1);
    return out;
  }
  RcptTargets forwards(const std::string& rcpt, const std::string& sender, size_t* failed) {
    RcptTargets t = resolve_rcpt(*doms_, addr(rcpt), "mx.test");
    *failed = rewrite_forwards(scope_, t, sender);
    return t;
  }
  std::string srs_of(const std::string& sender, const std::string& domain) {
    return codec_.forward(sender, domain, kDay).address;
  }

  domains::test::TempDir dir_;
  std::shared_ptr<const domains::Domains> doms_;
  srs::Codec codec_{{"forwarding-test-secret-0123"}};
  config::Config cfg_;
  SrsScope scope_;
};

TEST_F(Forwarding, RemoteForwardsFromStrangersGetAnSrsSenderAtTheAliasDomain) {
  size_t failed = 0;
  RcptTargets t = forwards("fwd@example.test", "carol@sender.test", &failed);
  EXPECT_EQ(failed, 0U);
  ASSERT_EQ(t.rcpts.size(), 2U);
  EXPECT_EQ(t.rcpts[0].address, "someone@remote.test");
  EXPECT_EQ(t.rcpts[0].sender, srs_of("carol@sender.test", "example.test"));
  EXPECT_EQ(t.rcpts[1].address, "bob@example.test");
  EXPECT_EQ(t.rcpts[1].sender, "");  // local delivery: nothing to rewrite
  // The catch-all too, at its own domain.
  t = forwards("anyone@catchall.test", "carol@sender.test", &failed);
  ASSERT_EQ(t.rcpts.size(), 1U);
  EXPECT_EQ(t.rcpts[0].sender, srs_of("carol@sender.test", "catchall.test"));
  // [srs] domain, when set, is the one domain of SRS addresses.
  cfg_.srs.domain = "mx.test";
  t = forwards("anyone@catchall.test", "carol@sender.test", &failed);
  EXPECT_EQ(t.rcpts[0].sender, srs_of("carol@sender.test", "mx.test"));
}

TEST_F(Forwarding, OurSendersTheNullSenderAndSrsOffAreNotRewritten) {
  size_t failed = 0;
  for (const char* sender : {"", "alice@example.test", "x@catchall.test"}) {
    RcptTargets t = forwards("fwd@example.test", sender, &failed);
    EXPECT_EQ(t.rcpts[0].sender, "") << sender;
  }
  cfg_.srs.domain = "mx.test";
  EXPECT_EQ(forwards("fwd@example.test", "root@mx.test", &failed).rcpts[0].sender, "");
  scope_.codec = nullptr;
  EXPECT_EQ(forwards("fwd@example.test", "carol@sender.test", &failed).rcpts[0].sender, "");
}

TEST_F(Forwarding, WhatCannotBeRewrittenIsCountedAndLeavesAsItCame) {
  size_t failed = 0;
  RcptTargets t = forwards("fwd@example.test", "\"carol smith\"@sender.test", &failed);
  EXPECT_EQ(failed, 1U);
  EXPECT_EQ(t.rcpts[0].sender, "");
  t = forwards("fwd@example.test", std::string(60, 'a') + "@sender.test", &failed);
  EXPECT_EQ(failed, 1U);
  EXPECT_EQ(t.rcpts[0].sender, "");
}

TEST_F(Forwarding, SrsAddressesOfOursAreCheckedAndStandForTheirSender) {
  std::string srs = srs_of("carol@sender.test", "catchall.test");
  SrsRcpt r = resolve_srs_rcpt(scope_, addr(srs), "mx.test");
  ASSERT_EQ(r.kind, SrsRcpt::Kind::Accepted);
  EXPECT_EQ(r.targets.kind, RcptTargets::Kind::Remote);
  ASSERT_EQ(r.targets.rcpts.size(), 1U);
  EXPECT_EQ(r.targets.rcpts[0].address, "carol@sender.test");
  EXPECT_EQ(r.targets.rcpts[0].original, srs);
  EXPECT_FALSE(r.targets.rcpts[0].local);
  // At any of our domains, not the catch-all's target.
  std::string at_example = srs.substr(0, srs.rfind('@')) + "@example.test";
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr(at_example), "mx.test").kind, SrsRcpt::Kind::Accepted);
  // An SRS address naming one of our mailboxes goes to it.
  SrsRcpt local =
      resolve_srs_rcpt(scope_, addr(srs_of("bob@example.test", "catchall.test")), "mx.test");
  ASSERT_EQ(local.kind, SrsRcpt::Kind::Accepted);
  EXPECT_EQ(local.targets.kind, RcptTargets::Kind::Local);
  EXPECT_TRUE(local.targets.rcpts.at(0).local);
}

TEST_F(Forwarding, ForgedExpiredAndMalformedAreRefusedWithTheirReason) {
  std::string srs = srs_of("carol@sender.test", "catchall.test");
  std::string forged = srs;
  forged[5] = forged[5] == 'Q' ? 'R' : 'Q';
  SrsRcpt r = resolve_srs_rcpt(scope_, addr(forged), "mx.test");
  EXPECT_EQ(r.kind, SrsRcpt::Kind::Refused);
  EXPECT_EQ(r.error, srs::Error::BadHash);
  scope_.day = kDay + 22;
  r = resolve_srs_rcpt(scope_, addr(srs), "mx.test");
  EXPECT_EQ(r.error, srs::Error::Expired);
  cfg_.srs.max_age = std::chrono::hours(30 * 24);
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr(srs), "mx.test").kind, SrsRcpt::Kind::Accepted);
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr("SRS0=xx@example.test"), "mx.test").error,
            srs::Error::Malformed);
}

TEST_F(Forwarding, NotOursOrOffIsNotSrs) {
  std::string srs = srs_of("carol@sender.test", "catchall.test");
  std::string elsewhere = srs.substr(0, srs.rfind('@')) + "@remote.test";
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr(elsewhere), "mx.test").kind, SrsRcpt::Kind::NotSrs);
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr("alice@example.test"), "mx.test").kind,
            SrsRcpt::Kind::NotSrs);
  // [srs] domain need not be a local domain.
  cfg_.srs.domain = "mx.test";
  std::string at_host = srs.substr(0, srs.rfind('@')) + "@mx.test";
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr(at_host), "mx.test").kind, SrsRcpt::Kind::Accepted);
  scope_.codec = nullptr;
  EXPECT_EQ(resolve_srs_rcpt(scope_, addr(srs), "mx.test").kind, SrsRcpt::Kind::NotSrs);
}

}  // namespace
}  // namespace hk::server
