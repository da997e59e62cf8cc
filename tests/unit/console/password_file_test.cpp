// Tests for the operator's password file: none configured, missing, malformed and valid files,
// the file re-read when it changes (a new password works at once, the old one's cached success
// is forgotten), and the cache of successes (only what was remembered, bounded, off with ttl 0).
#include "daemon/console/password_file.hpp"

#include <filesystem>
#include <thread>

#include "domains/password.hpp"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.hpp"

namespace hk::console {
namespace {

using namespace std::chrono_literals;

// Cheap parameters: the tests check the logic, not scrypt's cost.
std::string quick_hash(std::string_view password) {
  return domains::hash_password(password, domains::ScryptParams{10, 8, 1});
}

TEST(PasswordFile, NoneMissingMalformed) {
  test::TempDir dir;
  PasswordFile pf;
  pf.configure("", 300s, 10);
  EXPECT_EQ(pf.hash(), nullptr);
  pf.configure(dir.path() / "console.password", 300s, 10);
  EXPECT_EQ(pf.hash(), nullptr);  // missing
  dir.write("console.password", "not a hash\n");
  EXPECT_EQ(pf.hash(), nullptr);  // malformed
  dir.write("console.password", "\n");
  EXPECT_EQ(pf.hash(), nullptr);  // empty
}

TEST(PasswordFile, ReadsAndFollowsChanges) {
  test::TempDir dir;
  const std::string first = quick_hash("one");
  dir.write("console.password", first + "\n");
  PasswordFile pf;
  pf.configure(dir.path() / "console.password", 300s, 10);
  ASSERT_NE(pf.hash(), nullptr);
  EXPECT_EQ(*pf.hash(), first);
  EXPECT_TRUE(verify_password_ok(*pf.hash(), "one"));
  EXPECT_FALSE(verify_password_ok(*pf.hash(), "two"));
  EXPECT_FALSE(pf.cached("one"));
  pf.remember("one");
  EXPECT_TRUE(pf.cached("one"));
  EXPECT_FALSE(pf.cached("One"));
  EXPECT_FALSE(pf.cached("two"));

  // A new password (another size, so that the change shows even within one mtime tick).
  const std::string second = domains::hash_password("two", domains::ScryptParams{11, 8, 1});
  dir.write("console.password", second + "\r\n");
  ASSERT_NE(pf.hash(), nullptr);
  EXPECT_EQ(*pf.hash(), second);
  EXPECT_FALSE(pf.cached("one"));  // forgotten with the old file
  EXPECT_TRUE(verify_password_ok(*pf.hash(), "two"));

  std::filesystem::remove(dir.path() / "console.password");
  EXPECT_EQ(pf.hash(), nullptr);
  EXPECT_FALSE(pf.cached("two"));
}

TEST(PasswordFile, CacheBoundsAndOff) {
  test::TempDir dir;
  dir.write("console.password", quick_hash("p") + "\n");
  PasswordFile pf;
  pf.configure(dir.path() / "console.password", 300s, 2);
  ASSERT_NE(pf.hash(), nullptr);
  pf.remember("a");
  pf.remember("b");
  pf.remember("c");  // the oldest ("a") goes
  EXPECT_FALSE(pf.cached("a"));
  EXPECT_TRUE(pf.cached("b"));
  EXPECT_TRUE(pf.cached("c"));
  // Any configure() empties it; ttl 0 keeps nothing.
  pf.configure(dir.path() / "console.password", 0s, 2);
  ASSERT_NE(pf.hash(), nullptr);
  EXPECT_FALSE(pf.cached("b"));
  pf.remember("b");
  EXPECT_FALSE(pf.cached("b"));
  // Entries expire.
  pf.configure(dir.path() / "console.password", 1s, 2);
  ASSERT_NE(pf.hash(), nullptr);
  pf.remember("b");
  EXPECT_TRUE(pf.cached("b"));
  std::this_thread::sleep_for(1100ms);
  EXPECT_FALSE(pf.cached("b"));
}

}  // namespace
}  // namespace hk::console
