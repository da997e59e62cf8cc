// DomainsWatcher: reload on change, no reload without one, a broken file keeps the old snapshot.
#include "domains/watcher.hpp"

#include <gtest/gtest.h>

#include "domains_fixture.hpp"

namespace hk::domains {
namespace {

using test::users_file;

TEST(DomainsWatcher, ReloadsOnlyOnChangeAndKeepsOldOnError) {
  test::TempDir dir;
  dir.write("domains/example.com/users", users_file({"alice"}));
  dir.write("domains/example.com/aliases", "sales: alice\n");
  DomainsWatcher watcher(dir.path() / "domains");
  auto first = watcher.current();
  EXPECT_TRUE(first->resolve("sales", "example.com").targets.size() == 1);

  // Nothing changed: same snapshot.
  ReloadResult r = watcher.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(watcher.current(), first);

  // A new user.
  dir.write("domains/example.com/users", users_file({"alice", "bob"}));
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  auto second = watcher.current();
  EXPECT_NE(second, first);
  EXPECT_TRUE(second->users("example.com")->contains("bob"));
  EXPECT_FALSE(first->users("example.com")->contains("bob"));  // old snapshots never change

  // A broken aliases file: error once, old snapshot stays.
  dir.write("domains/example.com/aliases", "sales: alice\nbroken line\n");
  r = watcher.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.find("aliases:2: expected"), std::string::npos) << r.error;
  EXPECT_EQ(watcher.current(), second);
  r = watcher.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");  // reported once, not at every poll
  EXPECT_EQ(watcher.current(), second);

  // Fixed: reloads.
  dir.write("domains/example.com/aliases", "sales: alice, bob\n");
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed) << r.error;
  EXPECT_EQ(watcher.current()->resolve("sales", "example.com").targets.size(), 2u);

  // A new domain folder, then a new domain.toml, then a removed folder.
  std::filesystem::create_directories(dir.path() / "domains/example.org");
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(watcher.current()->is_local("example.org"));
  dir.write("domains/example.org/domain.toml", "send_as = \"any\"\n");
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(watcher.current()->sender_policy("example.org")->send_as, SendAs::Any);
  std::filesystem::remove_all(dir.path() / "domains/example.org");
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(watcher.current()->is_local("example.org"));

  // A removed file counts too.
  std::filesystem::remove(dir.path() / "domains/example.com/aliases");
  r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(watcher.current()->resolve("sales", "example.com").targets.empty());
}

TEST(DomainsWatcher, ForcedReloadAndReplacementByRename) {
  test::TempDir dir;
  dir.write("domains/example.com/users", users_file({"alice"}));
  DomainsWatcher watcher(dir.path() / "domains");
  auto first = watcher.current();
  EXPECT_TRUE(watcher.reload().changed);
  EXPECT_NE(watcher.current(), first);

  // An atomic replacement of the same size (new inode) is a change.
  UserDb db;
  db.set("alicf", "x", ScryptParams{4, 8, 1});
  std::string before = users_file({"alice"});
  std::string after = db.serialize();
  ASSERT_EQ(before.size(), after.size());
  db.save(dir.path() / "domains/example.com/users");
  auto r = watcher.reload_if_changed();
  EXPECT_TRUE(r.changed) << r.error;
  EXPECT_TRUE(watcher.current()->users("example.com")->contains("alicf"));
}

TEST(DomainsWatcher, FirstLoadErrorThrows) {
  test::TempDir dir;
  dir.write("domains/example.com/users", "alice plaintext\n");
  EXPECT_THROW(DomainsWatcher(dir.path() / "domains"), DomainsError);
}

TEST(DomainsWatcher, DomainsFolderAppearing) {
  test::TempDir dir;
  DomainsWatcher watcher(dir.path() / "domains");
  EXPECT_TRUE(watcher.current()->domain_names().empty());
  EXPECT_FALSE(watcher.reload_if_changed().changed);
  dir.write("domains/example.com/users", users_file({"alice"}));
  EXPECT_TRUE(watcher.reload_if_changed().changed);
  EXPECT_TRUE(watcher.current()->is_local("example.com"));
}

}  // namespace
}  // namespace hk::domains
