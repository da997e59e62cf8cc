// AuthCache: hits only for the same credentials against the same user database, within the TTL
// and the size bound; a reload of domains/ empties it; a wrong password never hits.
#include "domains/auth_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "domains/watcher.hpp"
#include "domains_fixture.hpp"

namespace hk::domains {
namespace {

using namespace std::chrono_literals;
using test::users_file;
using TimePoint = AuthCache::TimePoint;

class AuthCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("domains/example.com/users", users_file({"alice", "bob", "carol"}));
    watcher_ = std::make_unique<DomainsWatcher>(dir_.path() / "domains");
    cache_.configure(300s, 2);
  }

  // What the session does: the cache first, then the real check, remembered when it succeeds.
  // Returns the user and whether the cache answered.
  std::pair<std::optional<std::string>, bool> login(std::string_view user, std::string_view pw,
                                                    TimePoint now) {
    auto snapshot = watcher_->current();
    if (auto hit = cache_.find(snapshot, user, pw, now)) {
      return {hit, true};
    }
    auto checked = snapshot->authenticate(user, pw);
    if (checked) {
      cache_.remember(snapshot, user, pw, now);
    }
    return {checked, false};
  }

  test::TempDir dir_;
  std::unique_ptr<DomainsWatcher> watcher_;
  AuthCache cache_;
  const TimePoint t0_ = TimePoint{} + 1000h;
};

TEST_F(AuthCacheTest, MissThenHitWithTheCanonicalName) {
  EXPECT_EQ(cache_.find(watcher_->current(), "alice@example.com", "alice-pw", t0_), std::nullopt);
  auto [user, hit] = login("alice@example.com", "alice-pw", t0_);
  EXPECT_EQ(user, "alice@example.com");
  EXPECT_FALSE(hit);
  EXPECT_EQ(cache_.size(), 1u);
  std::tie(user, hit) = login("alice@example.com", "alice-pw", t0_ + 1s);
  EXPECT_EQ(user, "alice@example.com");
  EXPECT_TRUE(hit);
  // Other spellings of the same login (case, the bare name with one local domain) hit too and
  // give the canonical name.
  EXPECT_EQ(cache_.find(watcher_->current(), "Alice@Example.COM", "alice-pw", t0_ + 2s),
            "alice@example.com");
  EXPECT_EQ(cache_.find(watcher_->current(), "alice", "alice-pw", t0_ + 2s), "alice@example.com");
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(AuthCacheTest, WrongPasswordAfterACachedSuccessIsRefusedAndNotCached) {
  ASSERT_EQ(login("alice@example.com", "alice-pw", t0_).first, "alice@example.com");
  auto [user, hit] = login("alice@example.com", "alice-pw ", t0_ + 1s);
  EXPECT_EQ(user, std::nullopt);
  EXPECT_FALSE(hit);
  std::tie(user, hit) = login("alice@example.com", "ALICE-PW", t0_ + 1s);
  EXPECT_EQ(user, std::nullopt);
  EXPECT_FALSE(hit);
  // Another user's password does not open alice's entry, nor alice's password bob's.
  EXPECT_EQ(login("alice@example.com", "bob-pw", t0_ + 1s).first, std::nullopt);
  EXPECT_EQ(login("bob@example.com", "alice-pw", t0_ + 1s).first, std::nullopt);
  EXPECT_EQ(cache_.size(), 1u);  // failures are never remembered
  EXPECT_TRUE(login("alice@example.com", "alice-pw", t0_ + 2s).second);
}

TEST_F(AuthCacheTest, EntriesExpireAfterTheTtlAndAHitDoesNotExtendThem) {
  ASSERT_FALSE(login("alice@example.com", "alice-pw", t0_).second);
  EXPECT_TRUE(login("alice@example.com", "alice-pw", t0_ + 299s).second);
  auto [user, hit] = login("alice@example.com", "alice-pw", t0_ + 300s);
  EXPECT_EQ(user, "alice@example.com");  // checked again with scrypt
  EXPECT_FALSE(hit);
  EXPECT_TRUE(login("alice@example.com", "alice-pw", t0_ + 301s).second);
  EXPECT_EQ(cache_.find(watcher_->current(), "alice@example.com", "alice-pw", t0_ + 600s),
            std::nullopt);
  EXPECT_EQ(cache_.size(), 0u);  // expired entries are dropped, not kept
}

TEST_F(AuthCacheTest, SizeBoundEvictsTheOldest) {
  ASSERT_FALSE(login("alice@example.com", "alice-pw", t0_).second);
  ASSERT_FALSE(login("bob@example.com", "bob-pw", t0_ + 1s).second);
  ASSERT_FALSE(login("carol@example.com", "carol-pw", t0_ + 2s).second);
  EXPECT_EQ(cache_.size(), 2u);
  EXPECT_FALSE(login("alice@example.com", "alice-pw", t0_ + 3s).second);  // evicted; now in
  EXPECT_EQ(cache_.size(), 2u);
  EXPECT_FALSE(login("bob@example.com", "bob-pw", t0_ + 4s).second);  // evicted by alice
  EXPECT_TRUE(login("alice@example.com", "alice-pw", t0_ + 5s).second);
}

TEST_F(AuthCacheTest, ChangingTheUsersFileEmptiesIt) {
  ASSERT_FALSE(login("alice@example.com", "alice-pw", t0_).second);
  ASSERT_FALSE(login("bob@example.com", "bob-pw", t0_).second);
  ASSERT_TRUE(login("alice@example.com", "alice-pw", t0_ + 1s).second);

  // alice's password changes: the old one fails at once, the new one works (and is cached).
  UserDb db = UserDb::parse(users_file({"alice", "bob", "carol"}), "users");
  db.set("alice", "new-pw", ScryptParams{4, 8, 1});
  dir_.write("domains/example.com/users", db.serialize());
  ASSERT_TRUE(watcher_->reload_if_changed().changed);
  auto [user, hit] = login("alice@example.com", "alice-pw", t0_ + 2s);
  EXPECT_EQ(user, std::nullopt);
  EXPECT_FALSE(hit);
  EXPECT_EQ(cache_.size(), 0u);  // bob's entry went too: the whole cache is dropped
  EXPECT_FALSE(login("bob@example.com", "bob-pw", t0_ + 2s).second);
  EXPECT_EQ(login("alice@example.com", "new-pw", t0_ + 2s).first, "alice@example.com");
  EXPECT_TRUE(login("alice@example.com", "new-pw", t0_ + 3s).second);

  // alice is removed: her cached login fails at once.
  db.remove("alice");
  dir_.write("domains/example.com/users", db.serialize());
  ASSERT_TRUE(watcher_->reload_if_changed().changed);
  EXPECT_EQ(login("alice@example.com", "new-pw", t0_ + 4s).first, std::nullopt);
  EXPECT_TRUE(login("bob@example.com", "bob-pw", t0_ + 4s).first.has_value());
}

TEST_F(AuthCacheTest, AnEntryVerifiedAgainstAnOldSnapshotIsNotServedForANewOne) {
  auto old_snapshot = watcher_->current();
  UserDb db = UserDb::parse(users_file({"alice"}), "users");
  dir_.write("domains/example.com/users", db.serialize());
  ASSERT_TRUE(watcher_->reload_if_changed().changed);
  // A scrypt that began before the reload ends after it: remembered against the old snapshot.
  cache_.remember(old_snapshot, "bob@example.com", "bob-pw", t0_);
  EXPECT_EQ(cache_.find(watcher_->current(), "bob@example.com", "bob-pw", t0_), std::nullopt);
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(AuthCacheTest, OffWithAZeroTtlOrSize) {
  for (auto [ttl, size] : {std::pair{0s, size_t{100}}, std::pair{300s, size_t{0}}}) {
    cache_.configure(ttl, size);
    EXPECT_FALSE(cache_.enabled());
    EXPECT_EQ(login("alice@example.com", "alice-pw", t0_).first, "alice@example.com");
    EXPECT_FALSE(login("alice@example.com", "alice-pw", t0_ + 1s).second);
    EXPECT_EQ(cache_.size(), 0u);
  }
  // On again; configure() empties what there was.
  cache_.configure(300s, 10);
  ASSERT_FALSE(login("alice@example.com", "alice-pw", t0_).second);
  EXPECT_TRUE(login("alice@example.com", "alice-pw", t0_ + 1s).second);
  cache_.configure(60s, 10);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_FALSE(login("alice@example.com", "alice-pw", t0_ + 2s).second);
}

TEST_F(AuthCacheTest, UnknownUsersAndDomainsAreNeverRemembered) {
  auto snapshot = watcher_->current();
  cache_.remember(snapshot, "alice@elsewhere.example", "x", t0_);
  cache_.remember(snapshot, "", "x", t0_);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(login("nobody@example.com", "nobody-pw", t0_).first, std::nullopt);
  EXPECT_EQ(cache_.size(), 0u);
}

}  // namespace
}  // namespace hk::domains
