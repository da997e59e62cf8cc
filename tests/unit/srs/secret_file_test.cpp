// The SRS secret file: made at first start (0600, one 32-byte secret), read back, several lines
// for rotation, and refusals that never show a secret.
#include "lib/srs/secret_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "lib/base/base64.hpp"
#include "lib/base/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::srs {
namespace {

TEST(SrsSecretFile, CreatedAtFirstStartPrivateAndKept) {
  test::TempDir dir;
  auto path = dir.path() / "srs.key";
  SecretFile first(path);
  EXPECT_TRUE(first.created());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  std::string text;
  ASSERT_FALSE(base::read_file(path, text));
  auto secrets = parse_secrets(text, path.string());
  ASSERT_EQ(secrets.size(), 1U);
  auto raw = base::base64_decode(secrets[0]);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), 32U);
  // A second start reads the same secret: addresses made before still verify.
  Result f = first.current()->forward("alice@example.com", "fwd.example", 100);
  SecretFile second(path);
  EXPECT_FALSE(second.created());
  std::string local = f.address.substr(0, f.address.rfind('@'));
  EXPECT_TRUE(second.current()->reverse(local, 100, 21).ok());
  // Another data dir, another secret.
  test::TempDir other;
  SecretFile third(other.path() / "srs.key");
  EXPECT_EQ(third.current()->reverse(local, 100, 21).error, Error::BadHash);
}

TEST(SrsSecretFile, SeveralLinesCommentsAndRefusals) {
  auto s = parse_secrets("# comment\n\n  new-secret-0123456789  \nold-secret-0123456789\r\n", "f");
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s[0], "new-secret-0123456789");
  EXPECT_EQ(s[1], "old-secret-0123456789");
  try {
    parse_secrets("# only\nshort-secret\n", "/x/srs.key");
    FAIL() << "a short secret was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "/x/srs.key:2: SRS secret shorter than 16 characters");
  }
  EXPECT_THROW(parse_secrets("# nothing\n\n", "f"), std::runtime_error);
}

TEST(SrsSecretFile, OpenToOthersIsRefusedAndReloadKeepsTheOld) {
  test::TempDir dir;
  auto path = dir.write("srs.key", "first-secret-0123456789\n");
  SecretFile file(path);
  EXPECT_FALSE(file.created());
  ::chmod(path.c_str(), 0644);
  EXPECT_THROW(SecretFile again(path), std::runtime_error);
  base::ReloadResult r = file.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.find("readable by other users"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("first-secret"), std::string::npos);
  // Rotation: a new first line, the old kept below it.
  ::chmod(path.c_str(), 0600);
  Result before = file.current()->forward("alice@example.com", "fwd.example", 7);
  dir.write("srs.key", "second-secret-0123456789\nfirst-secret-0123456789\n");
  r = file.reload_if_changed();
  EXPECT_TRUE(r.changed) << r.error;
  std::string local = before.address.substr(0, before.address.rfind('@'));
  EXPECT_TRUE(file.current()->reverse(local, 7, 21).ok());
  EXPECT_NE(file.current()->forward("alice@example.com", "fwd.example", 7).address, before.address);
}

}  // namespace
}  // namespace hk::srs
