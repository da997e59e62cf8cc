// domain.toml parsing and Domains::may_send_as(); Domains::authenticate().
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "domains/domains.hpp"
#include "domains_fixture.hpp"

namespace hk::domains {
namespace {

using test::users_file;

TEST(SenderPolicy, Parses) {
  SenderPolicy p = SenderPolicy::parse(
      "send_as = \"domain\"\n"
      "[users.Alice]\n"
      "send_as = [\"Sales@Example.COM\", \"@Example.org\"]\n"
      "[users.\"john.smith\"]\n"
      "send_as = []\n",
      "domain.toml");
  EXPECT_EQ(p.send_as, SendAs::Domain);
  EXPECT_EQ(p.extra.at("alice"), (std::vector<std::string>{"Sales@example.com", "@example.org"}));
  EXPECT_TRUE(p.extra.at("johnsmith").empty());
  EXPECT_EQ(SenderPolicy::parse("", "f").send_as, SendAs::Own);
  EXPECT_EQ(SenderPolicy::parse("send_as = \"any\"", "f").send_as, SendAs::Any);
  EXPECT_EQ(SenderPolicy::parse("send_as = \"own\"", "f").send_as, SendAs::Own);
}

TEST(SenderPolicy, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string_view text;
    std::string_view error;
  } cases[] = {
      {"send_as = \"all\"\n", "f:1: send_as: expected \"own\", \"domain\" or \"any\""},
      {"\n\nsend_as = 3\n", "f:3: send_as: expected \"own\", \"domain\" or \"any\""},
      {"# c\nsendas = \"own\"\n", "f:2: sendas: unknown key"},
      {"users = 1\n", "f:1: users: expected a table"},
      {"[users]\nalice = 1\n", "f:2: users.alice: expected a table"},
      {"[users.alice]\nsend_as = \"x@y.example\"\n",
       "f:2: users.alice.send_as: expected an array of addresses"},
      {"[users.alice]\nsend_as = [1]\n", "f:2: users.alice.send_as: expected a string"},
      {"[users.alice]\nsend_as = [\"bob\"]\n",
       "f:2: users.alice.send_as: invalid address \"bob\" (expected local@domain or @domain)"},
      {"[users.alice]\nsend_as = [\"@bad_domain\"]\n",
       "f:2: users.alice.send_as: invalid domain \"@bad_domain\""},
      {"[users.alice]\nsend-as = []\n", "f:2: users.alice.send-as: unknown key"},
      {"[users.\"a b\"]\nsend_as = []\n", "f:1: users.a b: invalid user name"},
  };
  for (const auto& c : cases) {
    try {
      SenderPolicy::parse(c.text, "f");
      ADD_FAILURE() << "no error for: " << c.text;
    } catch (const DomainsError& e) {
      EXPECT_EQ(std::string_view(e.what()), c.error) << c.text;
    }
  }
  // toml++'s own syntax errors carry the line too.
  try {
    SenderPolicy::parse("\nsend_as = \n", "f");
    ADD_FAILURE();
  } catch (const DomainsError& e) {
    EXPECT_TRUE(std::string_view(e.what()).starts_with("f:2: ")) << e.what();
  }
}

class MaySendAs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("domains/example.com/users", users_file({"alice", "bob", "john.smith", "carol"}));
    dir_.write("domains/example.com/aliases",
               "sales: alice, bob\n"
               "billing: alice\n"
               "*: carol\n");
    dir_.write("domains/example.com/domain.toml",
               "[users.alice]\n"
               "send_as = [\"alice.smith@gmail.example\", \"@example.net\"]\n");
    dir_.write("domains/example.org/users", users_file({"dave"}));
    dir_.write("domains/example.org/aliases", "team: alice@example.com\n");
    dir_.write("domains/example.org/domain.toml", "send_as = \"domain\"\n");
    dir_.write("domains/relay.example/users", users_file({"app"}));
    dir_.write("domains/relay.example/domain.toml", "send_as = \"any\"\n");
    domains_ = Domains::load(dir_.path() / "domains");
  }

  test::TempDir dir_;
  std::shared_ptr<const Domains> domains_;
};

TEST_F(MaySendAs, Table) {
  struct Case {
    std::string_view user, local, domain;
    bool allowed;
  } cases[] = {
      // Own address in every spelling that normalizes to it.
      {"alice@example.com", "alice", "example.com", true},
      {"alice@example.com", "Alice+lists", "example.com", true},
      {"alice@example.com", "a.lice", "example.com", true},
      {"johnsmith@example.com", "John.Smith", "example.com", true},
      // Aliases resolving to the user, also from another local domain.
      {"alice@example.com", "sales", "example.com", true},
      {"bob@example.com", "sales", "example.com", true},
      {"alice@example.com", "billing+x", "example.com", true},
      {"bob@example.com", "billing", "example.com", false},
      {"alice@example.com", "team", "example.org", true},
      // Other users and the catch-all do not count.
      {"alice@example.com", "bob", "example.com", false},
      {"carol@example.com", "unknown", "example.com", false},
      {"carol@example.com", "alice", "example.com", false},
      // Per-user extras from domain.toml.
      {"alice@example.com", "alice.smith", "gmail.example", true},
      {"alice@example.com", "AliceSmith+x", "gmail.example", true},
      {"alice@example.com", "bob", "gmail.example", false},
      {"alice@example.com", "anyone", "example.net", true},
      {"alice@example.com", "anyone", "sub.example.net", false},
      {"bob@example.com", "anyone", "example.net", false},
      // send_as = "domain": anything in the user's own domain only.
      {"dave@example.org", "whoever", "example.org", true},
      {"dave@example.org", "alice", "example.com", false},
      // send_as = "any".
      {"app@relay.example", "noreply", "shop.example", true},
      // Unknown users or domains may send as nobody.
      {"mallory@example.com", "mallory", "example.com", false},
      {"alice@nowhere.example", "alice", "nowhere.example", false},
      {"alice", "alice", "example.com", false},
      {"alice@example.com", "alice", "example.org", false},
      {"alice@example.com", "", "", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(domains_->may_send_as(c.user, c.local, c.domain), c.allowed)
        << c.user << " as " << c.local << "@" << c.domain;
  }
}

TEST_F(MaySendAs, Authenticate) {
  struct Case {
    std::string_view username, password;
    std::optional<std::string> result;
  } cases[] = {
      {"alice@example.com", "alice-pw", "alice@example.com"},
      {"Alice@Example.COM", "alice-pw", "alice@example.com"},
      {"John.Smith@example.com", "john.smith-pw", "johnsmith@example.com"},
      {"alice@example.com", "bob-pw", std::nullopt},
      {"alice@example.com", "", std::nullopt},
      {"alice@example.org", "alice-pw", std::nullopt},
      {"nobody@example.com", "x", std::nullopt},
      {"alice@nowhere.example", "alice-pw", std::nullopt},
      {"alice", "alice-pw", std::nullopt},  // three local domains: bare names are ambiguous
      {"", "", std::nullopt},
      {"@example.com", "x", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(domains_->authenticate(c.username, c.password), c.result) << c.username;
  }
}

TEST(Authenticate, BareUserWithOneDomain) {
  test::TempDir dir;
  dir.write("domains/example.com/users", users_file({"alice"}));
  auto d = Domains::load(dir.path() / "domains");
  EXPECT_EQ(d->authenticate("alice", "alice-pw"), "alice@example.com");
  EXPECT_EQ(d->authenticate("ALICE", "alice-pw"), "alice@example.com");
  EXPECT_EQ(d->authenticate("alice", "x"), std::nullopt);
}

TEST(Authenticate, UnknownUserStillSpendsAScrypt) {
  test::TempDir dir;
  UserDb db;
  db.set("alice", "pw");  // default parameters, as in production
  dir.write("domains/example.com/users", db.serialize());
  auto d = Domains::load(dir.path() / "domains");
  // The fastest of three tries, so that a busy machine does not make the test flaky.
  auto time = [&](std::string_view user) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_FALSE(d->authenticate(user, "wrong"));
      best = std::min(best, std::chrono::steady_clock::now() - start);
    }
    return best;
  };
  auto known = time("alice@example.com");
  auto unknown_user = time("nobody@example.com");
  auto unknown_domain = time("alice@other.example");
  // Both sides run one scrypt with N=2^14; without the dummy the unknown cases take microseconds.
  EXPECT_GT(unknown_user, known / 4);
  EXPECT_GT(unknown_domain, known / 4);
}

}  // namespace
}  // namespace hk::domains
