// Tests for DkimKeyring: keys of every domain at start, reload when a key file comes, changes or
// goes, and a broken key file that keeps the previous set in service (reported once).
#include "lib/dkim/keyring.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace hk::dkim {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::vector<std::string> selectors(const Keys& keys, const std::string& domain) {
  std::vector<std::string> out;
  auto it = keys.find(domain);
  if (it != keys.end()) {
    for (const DkimKey& key : it->second) {
      out.push_back(key.selector);
    }
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(DkimKeyring, ReloadsOnChangeAndKeepsOldKeysOnError) {
  TempDir dir;
  fs::path domains = dir.path() / "domains";
  dir.write("domains/a.test/dkim/s1.pem", generate_key_pem(DkimAlgo::Ed25519));
  dir.write("domains/a.test/dkim/README", "not a key\n");  // only *.pem are keys
  dir.write("domains/b.test/users", "");                   // a domain without keys
  DkimKeyring ring(domains);
  auto first = ring.current();
  EXPECT_EQ(selectors(*first, "a.test"), Names{"s1"});
  EXPECT_EQ(first->count("b.test"), 0u);

  base::ReloadResult r = ring.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(ring.current(), first);
  dir.write("domains/a.test/dkim/README", "still not a key, longer\n");
  EXPECT_FALSE(ring.reload_if_changed().changed);

  // A new key (a rotation) and a new domain's key.
  dir.write("domains/a.test/dkim/s2.pem", generate_key_pem(DkimAlgo::Ed25519));
  dir.write("domains/b.test/dkim/s1.pem", generate_key_pem(DkimAlgo::Ed25519));
  r = ring.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  auto second = ring.current();
  EXPECT_EQ(selectors(*second, "a.test"), (Names{"s1", "s2"}));
  EXPECT_EQ(selectors(*second, "b.test"), Names{"s1"});
  EXPECT_EQ(selectors(*first, "a.test"), Names{"s1"});  // old sets never change

  // A broken key: reported once, naming the file; the previous keys stay in service.
  dir.write("domains/b.test/dkim/s1.pem", "-----BEGIN PRIVATE KEY-----\ngarbage\n");
  r = ring.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.find("b.test/dkim/s1.pem"), std::string::npos) << r.error;
  EXPECT_EQ(ring.current(), second);
  r = ring.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(ring.current(), second);

  // The broken key removed: reloads without it.
  fs::remove(domains / "b.test/dkim/s1.pem");
  r = ring.reload_if_changed();
  EXPECT_TRUE(r.changed) << r.error;
  EXPECT_EQ(ring.current()->count("b.test"), 0u);
  EXPECT_EQ(selectors(*ring.current(), "a.test"), (Names{"s1", "s2"}));

  // A retired key removed.
  fs::remove(domains / "a.test/dkim/s1.pem");
  r = ring.reload_if_changed();
  EXPECT_TRUE(r.changed) << r.error;
  EXPECT_EQ(selectors(*ring.current(), "a.test"), Names{"s2"});
}

TEST(DkimKeyring, BrokenKeyAtStartThrows) {
  TempDir dir;
  dir.write("domains/a.test/dkim/s1.pem", "not a key\n");
  EXPECT_THROW(DkimKeyring(dir.path() / "domains"), std::runtime_error);
}

TEST(DkimKeyring, NoDomainsFolderMeansNoKeys) {
  TempDir dir;
  DkimKeyring ring(dir.path() / "domains");
  EXPECT_TRUE(ring.current()->empty());
  EXPECT_FALSE(ring.reload_if_changed().changed);
  dir.write("domains/a.test/dkim/s1.pem", generate_key_pem(DkimAlgo::Ed25519));
  EXPECT_TRUE(ring.reload_if_changed().changed);
  EXPECT_EQ(selectors(*ring.current(), "a.test"), Names{"s1"});
}

}  // namespace
}  // namespace hk::dkim
