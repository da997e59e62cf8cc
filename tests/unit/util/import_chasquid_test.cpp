// import-chasquid's planning and writing (util/import_chasquid.hpp) on folders made here, with
// a users file written by the real chasquid-util.
#include "util/import_chasquid.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "domains/domains.hpp"
#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "lib/dkim/keys.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::string out;
  EXPECT_FALSE(base::read_file(p, out)) << p;
  return out;
}

std::string testdata(const std::string& name) { return read(fs::path(HK_UTIL_TESTDATA) / name); }

// Passes when an item named `subject` has `want` as outcome and `detail_part` in its detail.
::testing::AssertionResult has(const ImportPlan& plan, const std::string& subject, Outcome want,
                               const std::string& detail_part = "") {
  std::string all;
  for (const ImportItem& it : plan.items) {
    if (it.subject == subject && it.outcome == want &&
        it.detail.find(detail_part) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    all +=
        "\n  " + std::to_string(static_cast<int>(it.outcome)) + " " + it.subject + ": " + it.detail;
  }
  return ::testing::AssertionFailure() << "no " << static_cast<int>(want) << " " << subject
                                       << " with \"" << detail_part << "\"; items:" << all;
}

class ImportChasquid : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.path() / "chasquid";
    dst_ = tmp_.path() / "hikyaku";
    fs::create_directories(dst_);
    tmp_.write("chasquid/chasquid.conf",
               "hostname: \"mx.example.com\"\n"
               "max_data_size_mb: 20\n"
               "smtp_address: \":2525\"\n"
               "submission_address: \"systemd\"\n"
               "mail_delivery_agent_bin: \"maildrop\"\n"
               "give_up_send_after: \"20h\"\n"
               "dovecot_auth: true\n");
    tmp_.write("chasquid/domains/example.com/users", testdata("chasquid-users"));
    tmp_.write("chasquid/domains/example.com/aliases",
               "sales: alice, bob\n"
               "j.p: alice\n"
               "*: carol.x@example.com\n"
               "null: | cat\n"
               "alice+news: bob\n"
               "list: *@other.example\n"
               "sales: bob\n");
    tmp_.write("chasquid/domains/example.com/dkim:sel1.pem",
               dkim::generate_key_pem(dkim::DkimAlgo::Ed25519));
    tmp_.write("chasquid/domains/example.com/dkim:bad.pem", "not a key\n");
    tmp_.write("chasquid/domains/Other.Example/users",
               "users { key: \"p\" value { plain { password: \"pw\" } } }\n"
               "users { key: \"d\" value { denied {} } }\n");
    tmp_.write("chasquid/certs/mx.example.com/fullchain.pem", "-----BEGIN CERTIFICATE-----\nx\n");
    tmp_.write("chasquid/certs/mx.example.com/privkey.pem", "-----BEGIN PRIVATE KEY-----\ny\n");
    tmp_.write("le/live/other/fullchain.pem", "-----BEGIN CERTIFICATE-----\nz\n");
    fs::create_directory_symlink(tmp_.path() / "le/live/other", src_ / "certs/other");
    tmp_.write("chasquid/hooks/post-data", "#!/bin/sh\n");
  }

  ImportPlan plan(bool overwrite = false) { return plan_import({src_, dst_, overwrite}); }
  void apply(const ImportPlan& p) {
    std::vector<fs::path> written;
    apply_import(p, written);
  }

  test::TempDir tmp_;
  fs::path src_;
  fs::path dst_;
};

TEST_F(ImportChasquid, IntoAnEmptyFolder) {
  ImportPlan p = plan();
  EXPECT_TRUE(has(p, "user alice@example.com", Outcome::Converted, "the password keeps working"));
  EXPECT_TRUE(has(p, "user carolx@example.com", Outcome::Converted, "stored as \"carolx\""));
  EXPECT_TRUE(has(p, "user p@other.example", Outcome::Converted, "plain text"));
  EXPECT_TRUE(has(p, "user d@other.example", Outcome::Skipped, "denied"));
  EXPECT_TRUE(has(p, "alias sales@example.com", Outcome::Skipped, "overridden by line 7"));
  EXPECT_TRUE(has(p, "alias jp@example.com", Outcome::Converted, "-> alice"));
  EXPECT_TRUE(has(p, "alias *@example.com", Outcome::Converted, "catch-all"));
  EXPECT_TRUE(has(p, "alias null@example.com", Outcome::Skipped, "pipe alias"));
  EXPECT_TRUE(has(p, "alias alice+news@example.com", Outcome::Skipped, "suffixed"));
  EXPECT_TRUE(has(p, "alias list@example.com", Outcome::Skipped, "'*' target"));
  EXPECT_TRUE(has(p, "DKIM key sel1._domainkey.example.com", Outcome::Converted));
  EXPECT_TRUE(has(p, "DKIM key bad._domainkey.example.com", Outcome::Skipped));
  EXPECT_TRUE(has(p, "certificate mx.example.com", Outcome::Converted,
                  "fullchain.pem copied; privkey.pem copied"));
  EXPECT_TRUE(has(p, "certificate other", Outcome::Converted, "a link to"));
  EXPECT_TRUE(has(p, "hooks/", Outcome::Skipped, "no hooks"));
  EXPECT_TRUE(has(p, "chasquid.conf mail_delivery_agent_bin", Outcome::Skipped, "Maildirs"));
  EXPECT_TRUE(has(p, "chasquid.conf dovecot_auth", Outcome::Skipped));
  EXPECT_TRUE(has(p, "chasquid.conf submission_address", Outcome::Todo, "systemd"));
  EXPECT_TRUE(has(p, "hikyaku.toml hostname", Outcome::Converted, "\"mx.example.com\""));
  EXPECT_TRUE(has(p, "hikyaku.toml limits.max_message_size", Outcome::Converted, "\"20MiB\""));
  EXPECT_TRUE(has(p, "hikyaku.toml listen.smtp", Outcome::Converted, "\"[::]:2525\""));
  EXPECT_TRUE(has(p, "hikyaku.toml queue.lifetime", Outcome::Converted, "\"20h\""));

  // Planning wrote nothing.
  EXPECT_TRUE(fs::is_empty(dst_));
  apply(p);

  // The hashes chasquid made verify with hikyaku's code.
  auto alice = domains::UserDb::load(dst_ / "domains/example.com/users");
  EXPECT_EQ(alice.size(), 3u);
  EXPECT_TRUE(alice.check_password("alice", "p\xc3\xa4ssw0rd\"\\x"));
  EXPECT_FALSE(alice.check_password("alice", "pässw0rd"));
  EXPECT_TRUE(alice.check_password("bob", "secret2"));
  EXPECT_TRUE(alice.check_password("carol.x", "s3"));
  auto other = domains::UserDb::load(dst_ / "domains/other.example/users");
  EXPECT_TRUE(other.check_password("p", "pw"));
  EXPECT_FALSE(other.contains("d"));
  struct stat st {};
  ASSERT_EQ(::stat((dst_ / "domains/example.com/users").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto snapshot = domains::Domains::load(dst_ / "domains");
  auto r = snapshot->resolve("j.p", "example.com");
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].address, "alice@example.com");
  r = snapshot->resolve("nobody", "example.com");
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].address, "carolx@example.com");
  r = snapshot->resolve("sales", "example.com");
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].address, "bob@example.com");

  auto keys = dkim::load_domain_keys(dst_ / "domains", "example.com");
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].selector, "sel1");
  ASSERT_EQ(::stat((dst_ / "domains/example.com/dkim/sel1.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dst_ / "domains/example.com/dkim").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  EXPECT_EQ(read(dst_ / "certs/mx.example.com/fullchain.pem"), "-----BEGIN CERTIFICATE-----\nx\n");
  ASSERT_EQ(::stat((dst_ / "certs/mx.example.com/privkey.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(fs::is_symlink(dst_ / "certs/other"));
  EXPECT_EQ(fs::read_symlink(dst_ / "certs/other"), tmp_.path() / "le/live/other");

  config::Config cfg = config::load_config(dst_);
  EXPECT_EQ(cfg.hostname, "mx.example.com");
  EXPECT_EQ(cfg.limits.max_message_size, 20u * 1024 * 1024);
  EXPECT_EQ(cfg.listen.smtp.size(), 2u);
  EXPECT_EQ(cfg.queue.lifetime, std::chrono::hours(20));

  // A second run finds everything in place and writes nothing.
  ImportPlan again = plan();
  EXPECT_TRUE(again.writes.empty());
  EXPECT_TRUE(again.dirs.empty());
  EXPECT_TRUE(has(again, "user alice@example.com", Outcome::Unchanged));
  EXPECT_TRUE(has(again, "alias *@example.com", Outcome::Unchanged));
  EXPECT_TRUE(has(again, "DKIM key sel1._domainkey.example.com", Outcome::Unchanged));
  EXPECT_TRUE(has(again, "certificate other", Outcome::Unchanged));
  EXPECT_TRUE(has(again, "hikyaku.toml hostname", Outcome::Unchanged));
}

TEST_F(ImportChasquid, MergesAndKeepsHikyakusOwn) {
  domains::UserDb db;
  db.set("bob", "hikyaku's own", domains::ScryptParams{1, 1, 1});
  db.set("zed", "zzz", domains::ScryptParams{1, 1, 1});
  fs::create_directories(dst_ / "domains/example.com");
  db.save(dst_ / "domains/example.com/users");
  std::string aliases = "# mine\nsales: zed\nkeep: zed\n";
  tmp_.write("hikyaku/domains/example.com/aliases", aliases);
  std::string toml = "hostname = \"other.example.com\"\n";
  tmp_.write("hikyaku/hikyaku.toml", toml);

  ImportPlan p = plan();
  EXPECT_TRUE(has(p, "user bob@example.com", Outcome::Conflict, "kept hikyaku's"));
  EXPECT_TRUE(has(p, "user alice@example.com", Outcome::Converted));
  EXPECT_TRUE(has(p, "alias sales@example.com", Outcome::Conflict, "aliases:2"));
  EXPECT_TRUE(has(p, "hikyaku.toml hostname", Outcome::Todo, "hostname = \"mx.example.com\""));
  apply(p);
  auto users = domains::UserDb::load(dst_ / "domains/example.com/users");
  EXPECT_TRUE(users.check_password("bob", "hikyaku's own"));
  EXPECT_TRUE(users.check_password("zed", "zzz"));
  EXPECT_TRUE(users.check_password("alice", "p\xc3\xa4ssw0rd\"\\x"));
  std::string merged = read(dst_ / "domains/example.com/aliases");
  EXPECT_TRUE(merged.starts_with(aliases)) << merged;
  EXPECT_NE(merged.find("\n*: carol.x@example.com\n"), std::string::npos) << merged;
  EXPECT_EQ(read(dst_ / "hikyaku.toml"), toml);

  // --overwrite takes chasquid's, and keeps hikyaku's alias line as a comment.
  ImportPlan o = plan(true);
  EXPECT_TRUE(has(o, "user bob@example.com", Outcome::Converted, "--overwrite"));
  apply(o);
  users = domains::UserDb::load(dst_ / "domains/example.com/users");
  EXPECT_TRUE(users.check_password("bob", "secret2"));
  EXPECT_TRUE(users.check_password("zed", "zzz"));
  merged = read(dst_ / "domains/example.com/aliases");
  EXPECT_NE(merged.find("# replaced by import-chasquid: sales: zed\nsales: bob\n"),
            std::string::npos)
      << merged;
  EXPECT_NE(merged.find("keep: zed\n"), std::string::npos);
  EXPECT_EQ(read(dst_ / "hikyaku.toml"), toml);
}

// A certificate and its key go together: a different certificate in hikyaku keeps chasquid's key
// out too, or the pair would not match.
TEST_F(ImportChasquid, CertificatePairsAreNotMixed) {
  tmp_.write("hikyaku/certs/mx.example.com/fullchain.pem", "-----BEGIN CERTIFICATE-----\nmine\n");
  ImportPlan p = plan();
  EXPECT_TRUE(has(p, "certificate mx.example.com", Outcome::Conflict, "kept hikyaku's pair"));
  apply(p);
  EXPECT_FALSE(fs::exists(dst_ / "certs/mx.example.com/privkey.pem"));
  EXPECT_EQ(read(dst_ / "certs/mx.example.com/fullchain.pem"),
            "-----BEGIN CERTIFICATE-----\nmine\n");
  ImportPlan o = plan(true);
  EXPECT_TRUE(has(o, "certificate mx.example.com", Outcome::Converted, "--overwrite"));
  apply(o);
  EXPECT_EQ(read(dst_ / "certs/mx.example.com/privkey.pem"), "-----BEGIN PRIVATE KEY-----\ny\n");
  EXPECT_EQ(read(dst_ / "certs/mx.example.com/fullchain.pem"), "-----BEGIN CERTIFICATE-----\nx\n");
}

// As user-add: what root writes takes the owner of its folder, so the daemon's user reads it.
TEST_F(ImportChasquid, FilesAreOwnedLikeTheirFolder) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give files away";
  }
  constexpr uid_t kUid = 65534;
  constexpr gid_t kGid = 65534;
  ASSERT_EQ(::chown(dst_.c_str(), kUid, kGid), 0);
  apply(plan());
  for (const char* rel :
       {"domains", "domains/example.com", "domains/example.com/users",
        "domains/example.com/aliases", "domains/example.com/dkim",
        "domains/example.com/dkim/sel1.pem", "certs/mx.example.com/privkey.pem", "hikyaku.toml"}) {
    struct stat st {};
    ASSERT_EQ(::lstat((dst_ / rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_uid, kUid) << rel;
    EXPECT_EQ(st.st_gid, kGid) << rel;
  }
}

TEST_F(ImportChasquid, BadInputStopsBeforeAnyWrite) {
  tmp_.write("chasquid/domains/zz.example/users",
             "users {\n  key: \"a\"\n  value { scrypt { x: 1 } }\n}\n");
  try {
    plan();
    ADD_FAILURE() << "no error";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("zz.example/users:3: unknown field \"x\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dst_));

  EXPECT_THROW(plan_import({tmp_.path() / "missing", dst_, false}), ImportError);
  fs::create_directories(tmp_.path() / "empty");
  EXPECT_THROW(plan_import({tmp_.path() / "empty", dst_, false}), ImportError);
}

}  // namespace
}  // namespace hk::util
