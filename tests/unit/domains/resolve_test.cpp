// Domains::resolve(): users, aliases, catch-all, chains across domains, loops and limits; and
// loading the domains folder.
#include <gtest/gtest.h>

#include "domains/domains.hpp"
#include "domains_fixture.hpp"

namespace hk::domains {
namespace {

using test::describe;
using test::users_file;
using Lines = std::vector<std::string>;

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("domains/example.com/users", users_file({"alice", "bob", "john.smith", "eve"}));
    std::string aliases =
        "# example.com\n"
        "sales: alice, bob\n"
        "info: sales, alice\n"  // a diamond: alice twice, listed once
        "ext: Carol.X@Gmail.Example\n"
        "cross: dave@example.org\n"
        "viaorg: back@example.org\n"
        "eve: eve, eve@backup.example\n"
        "mixed: alice+tag, Bob, nobody, x@remote.example\n"
        "loop1: loop2\n"
        "loop2: loop1\n"
        "self: self\n"
        "xloop: xloop@example.org\n"
        "ghost: nobody\n";
    // d1 -> d2 -> ... -> d10 -> alice: ten nested aliases, the limit.
    for (int i = 1; i <= 10; ++i) {
      aliases += "d" + std::to_string(i) + ": " +
                 (i == 10 ? std::string("alice") : "d" + std::to_string(i + 1)) + "\n";
    }
    // e1 -> ... -> e11 -> alice: one too many.
    for (int i = 1; i <= 11; ++i) {
      aliases += "e" + std::to_string(i) + ": " +
                 (i == 11 ? std::string("alice") : "e" + std::to_string(i + 1)) + "\n";
    }
    aliases += "wide: ";
    for (int i = 0; i < 1001; ++i) {
      aliases += (i ? ", r" : "r") + std::to_string(i) + "@remote.example";
    }
    aliases += "\n";
    dir_.write("domains/example.com/aliases", aliases);

    dir_.write("domains/example.org/users", users_file({"dave", "frank"}));
    dir_.write("domains/example.org/aliases",
               "back: sales@example.com\n"
               "xloop: xloop@example.com\n"
               "*: frank\n");
    // A domain with a catch-all that loops on itself and no users.
    dir_.write("domains/loop.example/aliases", "*: nobody\n");
    // A domain folder with nothing in it is still local.
    std::filesystem::create_directories(dir_.path() / "domains/empty.example");
    domains_ = Domains::load(dir_.path() / "domains");
  }

  Lines resolve(std::string_view local, std::string_view domain) {
    return describe(domains_->resolve(local, domain));
  }

  test::TempDir dir_;
  std::shared_ptr<const Domains> domains_;
};

TEST_F(Resolve, LoadsEveryDomainFolder) {
  EXPECT_EQ(domains_->domain_names(),
            (Lines{"empty.example", "example.com", "example.org", "loop.example"}));
  EXPECT_TRUE(domains_->is_local("example.com"));
  EXPECT_TRUE(domains_->is_local("empty.example"));
  EXPECT_FALSE(domains_->is_local("gmail.example"));
  EXPECT_FALSE(domains_->is_local("com"));
}

TEST_F(Resolve, Table) {
  struct Case {
    std::string_view local, domain;
    Lines expected;
  } cases[] = {
      // Users, in any spelling that normalizes to them.
      {"alice", "example.com", {"local alice@example.com"}},
      {"ALICE", "example.com", {"local alice@example.com"}},
      {"alice+news", "example.com", {"local alice@example.com"}},
      {"a.l.i.c.e", "example.com", {"local alice@example.com"}},
      {"john.smith", "example.com", {"local johnsmith@example.com"}},
      {"JohnSmith+x", "example.com", {"local johnsmith@example.com"}},
      // Unknown, with no catch-all.
      {"nobody", "example.com", {}},
      {"+alice", "example.com", {}},
      {"", "example.com", {}},
      {"anyone", "empty.example", {}},
      // Aliases.
      {"sales", "example.com", {"local alice@example.com", "local bob@example.com"}},
      {"Sales+Q3", "example.com", {"local alice@example.com", "local bob@example.com"}},
      {"info", "example.com", {"local alice@example.com", "local bob@example.com"}},
      {"ext", "example.com", {"remote Carol.X@gmail.example"}},
      {"mixed",
       "example.com",
       {"local alice@example.com", "local bob@example.com", "remote x@remote.example"}},
      {"ghost", "example.com", {}},
      // A user listed in its own alias is final: copy kept plus forward.
      {"eve", "example.com", {"local eve@example.com", "remote eve@backup.example"}},
      // Across local domains.
      {"cross", "example.com", {"local dave@example.org"}},
      {"viaorg", "example.com", {"local alice@example.com", "local bob@example.com"}},
      {"back", "example.org", {"local alice@example.com", "local bob@example.com"}},
      // The catch-all only when no user and no alias matches.
      {"dave", "example.org", {"local dave@example.org"}},
      {"anything", "example.org", {"local frank@example.org"}},
      {"frank", "example.org", {"local frank@example.org"}},
      // Non-local domains are remote as given.
      {"Bob", "gmail.example", {"remote Bob@gmail.example"}},
      // Chains: ten nested aliases are fine.
      {"d1", "example.com", {"local alice@example.com"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(resolve(c.local, c.domain), c.expected) << c.local << "@" << c.domain;
  }
}

TEST_F(Resolve, ErrorsSayWhich) {
  struct Case {
    std::string_view local, domain;
    std::string error;
  } cases[] = {
      {"loop1", "example.com",
       "error: alias loop: loop1@example.com -> loop2@example.com -> loop1@example.com"},
      {"loop2+x", "example.com",
       "error: alias loop: loop2@example.com -> loop1@example.com -> loop2@example.com"},
      {"self", "example.com", "error: alias loop: self@example.com -> self@example.com"},
      {"xloop", "example.com",
       "error: alias loop: xloop@example.com -> xloop@example.org -> xloop@example.com"},
      {"someone", "loop.example",
       "error: alias loop: someone@loop.example -> nobody@loop.example -> nobody@loop.example"},
      {"e1", "example.com", "error: alias chain deeper than 10 at e11@example.com"},
      {"wide", "example.com", "error: alias expansion exceeds 1000 addresses"},
  };
  for (const auto& c : cases) {
    Resolution r = domains_->resolve(c.local, c.domain);
    EXPECT_EQ(describe(r), Lines{c.error}) << c.local << "@" << c.domain;
    EXPECT_TRUE(r.targets.empty());
  }
  // From e2 on it is ten nested aliases again.
  EXPECT_EQ(resolve("e2", "example.com"), Lines{"local alice@example.com"});
}

TEST(DomainsLoad, MissingFolderMeansNoLocalDomain) {
  test::TempDir dir;
  auto d = Domains::load(dir.path() / "domains");
  EXPECT_TRUE(d->domain_names().empty());
  EXPECT_EQ(describe(d->resolve("a", "example.com")), Lines{"remote a@example.com"});
}

TEST(DomainsLoad, SkipsDotFilesPlainFilesAndBadNames) {
  test::TempDir dir;
  dir.write("domains/README", "not a domain\n");
  dir.write("domains/.git/users", "garbage\n");
  dir.write("domains/bad_name/users", "garbage\n");
  dir.write("domains/Example.COM/users", users_file({"alice"}));
  auto d = Domains::load(dir.path() / "domains");
  EXPECT_EQ(d->domain_names(), Lines{"example.com"});
}

TEST(DomainsLoad, BrokenFilesNameFileAndLine) {
  struct Case {
    std::string file, text, error_suffix;
  } cases[] = {
      {"users", "alice\n", "/example.com/users:1: expected \"name scrypt$...\", found 1 field"},
      {"aliases", "# x\nsales alice\n",
       "/example.com/aliases:2: expected \"name: target, target\", no ':' found"},
      {"domain.toml", "\nsend_as = \"everyone\"\n",
       "/example.com/domain.toml:2: send_as: expected \"own\", \"domain\" or \"any\""},
  };
  for (const auto& c : cases) {
    test::TempDir dir;
    dir.write("domains/example.com/" + c.file, c.text);
    try {
      Domains::load(dir.path() / "domains");
      ADD_FAILURE() << c.file;
    } catch (const DomainsError& e) {
      EXPECT_TRUE(std::string_view(e.what()).ends_with(c.error_suffix)) << e.what();
    }
  }
}

TEST(DomainsLoad, UnreadableUsersFileIsAnError) {
  // A folder where the file should be: unreadable for root too.
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "domains/example.com/users");
  try {
    Domains::load(dir.path() / "domains");
    ADD_FAILURE();
  } catch (const DomainsError& e) {
    EXPECT_TRUE(std::string_view(e.what()).ends_with("example.com/users: Is a directory"))
        << e.what();
  }
}

}  // namespace
}  // namespace hk::domains
