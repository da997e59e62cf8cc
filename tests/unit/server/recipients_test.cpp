// RCPT TO resolution: local mailboxes and aliases, the bare <postmaster>, remote addresses, and
// how recipients join a transaction.
#include "daemon/server/recipients.hpp"

#include <gtest/gtest.h>

#include "../domains/domains_fixture.hpp"
#include "domains/domains.hpp"

namespace hk::server {
namespace {

using Kind = RcptTargets::Kind;

class Recipients : public ::testing::Test {
 protected:
  Recipients() {
    dir_.write("domains/example.test/users", domains::test::users_file({"alice", "bob"}));
    dir_.write("domains/example.test/aliases",
               "team: alice, bob\nfwd: someone@remote.test\nloop: loop2\nloop2: loop\n");
    dir_.write("domains/other.test/aliases", "*: bob@example.test\n");
    doms_ = domains::Domains::load(dir_.path() / "domains");
  }

  RcptTargets resolve(const std::string& local, const std::string& domain,
                      const std::string& hostname = "mx.test") {
    smtp::Address a;
    a.local = local;
    a.domain = domain;
    return resolve_rcpt(*doms_, a, hostname);
  }

  static std::vector<std::string> addresses(const std::vector<queue::Recipient>& rcpts) {
    std::vector<std::string> out;
    for (const auto& r : rcpts) {
      out.push_back(r.address + (r.local ? " local" : " remote") + " <" + r.original + ">");
    }
    return out;
  }

  domains::test::TempDir dir_;
  std::shared_ptr<const domains::Domains> doms_;
};

TEST_F(Recipients, Resolves) {
  struct Case {
    std::string local, domain, hostname;
    Kind kind;
    std::vector<std::string> rcpts;
  };
  const Case cases[] = {
      {"alice",
       "example.test",
       "mx.test",
       Kind::Local,
       {"alice@example.test local <alice@example.test>"}},
      {"Alice",
       "example.test",
       "mx.test",
       Kind::Local,
       {"alice@example.test local <Alice@example.test>"}},
      {"team",
       "example.test",
       "mx.test",
       Kind::Local,
       {"alice@example.test local <team@example.test>",
        "bob@example.test local <team@example.test>"}},
      {"fwd",
       "example.test",
       "mx.test",
       Kind::Local,
       {"someone@remote.test remote <fwd@example.test>"}},
      {"anyone",
       "other.test",
       "mx.test",
       Kind::Local,
       {"bob@example.test local <anyone@other.test>"}},
      {"nobody", "example.test", "mx.test", Kind::NoSuchUser, {}},
      {"victim",
       "remote.test",
       "mx.test",
       Kind::Remote,
       {"victim@remote.test remote <victim@remote.test>"}},
      // RFC 5321 §4.5.1: a bare <postmaster> belongs to the first local domain when our own
      // name is not one; it has no postmaster there, so it is unknown.
      {"postmaster", "", "mx.test", Kind::NoSuchUser, {}},
      {"alice", "", "example.test", Kind::Local, {"alice@example.test local <alice@example.test>"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.local + "@" + c.domain);
    RcptTargets t = resolve(c.local, c.domain, c.hostname);
    EXPECT_EQ(t.kind, c.kind);
    EXPECT_EQ(addresses(t.rcpts), c.rcpts);
  }
}

TEST_F(Recipients, AliasErrorsAreReported) {
  RcptTargets t = resolve("loop", "example.test");
  EXPECT_EQ(t.kind, Kind::AliasError);
  EXPECT_FALSE(t.error.empty());
  EXPECT_TRUE(t.rcpts.empty());
  EXPECT_EQ(t.original, "loop@example.test");
}

TEST_F(Recipients, LocalMailboxesOnceRemoteAsGiven) {
  std::vector<queue::Recipient> rcpts;
  add_rcpts(rcpts, resolve("team", "example.test"));
  add_rcpts(rcpts, resolve("alice", "example.test"));
  add_rcpts(rcpts, resolve("victim", "remote.test"));
  add_rcpts(rcpts, resolve("victim", "remote.test"));
  EXPECT_EQ(addresses(rcpts),
            (std::vector<std::string>{"alice@example.test local <team@example.test>",
                                      "bob@example.test local <team@example.test>",
                                      "victim@remote.test remote <victim@remote.test>",
                                      "victim@remote.test remote <victim@remote.test>"}));
}

}  // namespace
}  // namespace hk::server
