// UserDb: round trip through the file, passwords, normalized names, file mode, bad lines.
#include "domains/user_db.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "domains/domains_error.hpp"
#include "lib/base/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::domains {
namespace {

constexpr ScryptParams kFast{4, 8, 1};

std::string read(const std::filesystem::path& p) {
  std::string text;
  EXPECT_FALSE(base::read_file(p, text));
  return text;
}

TEST(UserDb, SaveLoadRoundTrip) {
  hk::test::TempDir dir;
  UserDb db;
  db.set("alice", "alice-pw", kFast);
  db.set("John.Smith", "john-pw", kFast);
  db.set("Bob", "bob-pw", kFast);
  auto file = dir.path() / "users";
  db.save(file);

  UserDb loaded = UserDb::load(file);
  EXPECT_EQ(loaded.users(), (std::vector<std::string>{"alice", "bob", "johnsmith"}));
  EXPECT_TRUE(loaded.check_password("alice", "alice-pw"));
  EXPECT_TRUE(loaded.check_password("johnsmith", "john-pw"));
  EXPECT_TRUE(loaded.check_password("BOB", "bob-pw"));
  EXPECT_FALSE(loaded.check_password("alice", "bob-pw"));
  EXPECT_FALSE(loaded.check_password("alice", ""));
  EXPECT_FALSE(loaded.check_password("nobody", "alice-pw"));

  std::string text = read(file);
  EXPECT_TRUE(text.starts_with("# hikyaku users file")) << text;
  EXPECT_EQ(text.find("alice-pw"), std::string::npos);  // never plaintext
  EXPECT_NE(text.find("\nalice scrypt$4$8$1$"), std::string::npos) << text;
  // Saving what was loaded gives the same bytes.
  loaded.save(file);
  EXPECT_EQ(read(file), text);
}

TEST(UserDb, FileModeIs0600WhateverTheUmask) {
  hk::test::TempDir dir;
  mode_t old = ::umask(0);
  UserDb db;
  db.set("alice", "pw", kFast);
  db.save(dir.path() / "users");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "users").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(UserDb, NormalizedLookup) {
  UserDb db;
  db.set("john.smith", "pw", kFast);
  for (std::string_view name :
       {"john.smith", "johnsmith", "JohnSmith", "john.smith+tag", "j.o.h.n.smith"}) {
    EXPECT_TRUE(db.contains(name)) << name;
    EXPECT_TRUE(db.check_password(name, "pw")) << name;
  }
  EXPECT_FALSE(db.contains("john"));
  EXPECT_FALSE(db.contains("+johnsmith"));
}

TEST(UserDb, SetReplacesAndRemove) {
  UserDb db;
  db.set("alice", "old", kFast);
  db.set("Alice", "new", kFast);
  EXPECT_EQ(db.size(), 1u);
  EXPECT_FALSE(db.check_password("alice", "old"));
  EXPECT_TRUE(db.check_password("alice", "new"));
  EXPECT_TRUE(db.remove("ALICE"));
  EXPECT_FALSE(db.remove("alice"));
  EXPECT_FALSE(db.contains("alice"));
}

TEST(UserDb, SetRejectsInvalidNames) {
  UserDb db;
  for (std::string_view name : {"", "a b", "a+b", "a@b", "*", "#x", "."}) {
    EXPECT_THROW(db.set(name, "pw", kFast), DomainsError) << name;
  }
  EXPECT_EQ(db.size(), 0u);
}

TEST(UserDb, ParseAcceptsCommentsBlanksTabsAndCrlf) {
  std::string h = hash_password("pw", kFast);
  std::string text =
      "# header\n\n   \n  # indented comment\nalice\t" + h + "\r\n  Bob   " + h + "  \n";
  UserDb db = UserDb::parse(text, "users");
  EXPECT_EQ(db.users(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_TRUE(db.check_password("bob", "pw"));
}

TEST(UserDb, BadLinesNameFileAndLine) {
  std::string h = hash_password("pw", kFast);
  struct Case {
    std::string text;
    std::string error;  // expected what(), exactly
  } cases[] = {
      {"# c\nalice\n", "f:2: expected \"name scrypt$...\", found 1 field"},
      {"alice " + h + " extra\n", "f:1: expected \"name scrypt$...\", found 3 fields"},
      {"\n\na+b " + h + "\n", "f:3: invalid user name \"a+b\""},
      {"al:ice " + h + "\n", "f:1: invalid user name \"al:ice\""},
      {"alice hunter2\n",
       "f:1: password of \"alice\" is not a scrypt hash (plaintext is refused; use hikyaku-util "
       "user-add)"},
      {"alice scrypt$14$8$1$abc$def\n",
       "f:1: malformed scrypt hash for \"alice\" (expected scrypt$logN$r$p$salt$key)"},
      {"alice " + h + "\n# x\nA.lice " + h + "\n",
       "f:3: duplicate user \"alice\" (first on line 1)"},
  };
  for (const auto& c : cases) {
    try {
      UserDb::parse(c.text, "f");
      ADD_FAILURE() << "no error for: " << c.text;
    } catch (const DomainsError& e) {
      EXPECT_EQ(std::string(e.what()), c.error);
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
    }
  }
}

TEST(UserDb, LoadMissingFileNamesIt) {
  hk::test::TempDir dir;
  try {
    UserDb::load(dir.path() / "users");
    ADD_FAILURE();
  } catch (const DomainsError& e) {
    EXPECT_NE(std::string(e.what()).find("users: No such file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hk::domains
