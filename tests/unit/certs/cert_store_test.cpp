// Tests for CertStore: loading, SNI selection over real handshakes, reload and its failures.
#include "certs/cert_store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "certs/self_signed.hpp"
#include "certs/tls_context.hpp"
#include "lib/base/files.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/certs/test_support.hpp"

namespace hk::certs {
namespace {

namespace fs = std::filesystem;
using test::ClientOptions;
using test::handshake;
using test::Seen;

std::string slurp(const fs::path& p) {
  std::string s;
  EXPECT_FALSE(base::read_file(p, s)) << p;
  return s;
}

// Rewrites a file in place (same inode), as a careless copy would.
void overwrite(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

class CertStoreTest : public testing::Test {
 protected:
  fs::path certs() const { return scratch_.path() / "certs"; }
  void make(const std::string& folder, const std::vector<std::string>& names) {
    make_self_signed(certs() / folder, names, 30);
  }
  // A key pair that belongs to no folder, for mismatches and fake intermediates.
  fs::path spare() {
    fs::path dir = scratch_.path() / "spare";
    if (!fs::exists(dir)) {
      make_self_signed(dir, {"spare.test"}, 30);
    }
    return dir;
  }

  hk::test::TempDir scratch_;
};

TEST_F(CertStoreTest, MissingOrEmptyDirMeansNoTls) {
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  EXPECT_FALSE(store.has_tls());
  EXPECT_EQ(store.context(), nullptr);
  EXPECT_TRUE(store.info().empty());
  ReloadResult r = store.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");

  fs::create_directories(certs());
  store.load();
  EXPECT_FALSE(store.has_tls());
  r = store.reload();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");

  // A certificate deployed later turns TLS on without a restart.
  make("a.test", {"a.test"});
  r = store.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  ASSERT_TRUE(store.has_tls());
  EXPECT_TRUE(handshake(store.context(), {}).ok());
}

TEST_F(CertStoreTest, SniPicksTheFolderWhoseNamesMatch) {
  make("a.test", {"a.test"});
  make("b.test", {"*.b.test"});
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  ASSERT_TRUE(store.has_tls());

  struct Case {
    const char* sni;
    const char* want;
  };
  const Case cases[] = {
      {"a.test", "a.test"},
      {"A.Test", "a.test"},
      {"x.b.test", "*.b.test"},
      {"MX.B.TEST", "*.b.test"},
      {"b.test", "a.test"},      // the wildcard does not cover the bare domain
      {"y.x.b.test", "a.test"},  // nor two labels
      {"", "a.test"},            // no SNI: the default
      {"unknown.example", "a.test"},
  };
  for (const Case& c : cases) {
    Seen seen = handshake(store.context(), {.sni = c.sni});
    ASSERT_TRUE(seen.ok()) << c.sni << ": " << seen.client_error << seen.server_error;
    ASSERT_FALSE(seen.names.empty());
    EXPECT_EQ(seen.names.front(), c.want) << "sni=" << c.sni;
  }
}

TEST_F(CertStoreTest, DefaultNameChoosesTheDefaultFolder) {
  make("a.test", {"a.test"});
  make("b.test", {"*.b.test"});
  struct Case {
    const char* default_name;
    const char* want;
  };
  const Case cases[] = {
      {"a.test", "a.test"},
      {"mx.b.test", "*.b.test"},  // a wildcard covers the hostname
      {"MX.B.TEST", "*.b.test"},
      {"other.example", "a.test"},  // no match: the first folder in sorted order
  };
  for (const Case& c : cases) {
    CertStore store(certs(), c.default_name, MinTls::V1_2);
    store.load();
    Seen seen = handshake(store.context(), {});
    ASSERT_TRUE(seen.ok()) << seen.client_error << seen.server_error;
    EXPECT_EQ(seen.names.front(), c.want) << c.default_name;
    for (const CertInfo& info : store.info()) {
      EXPECT_EQ(info.is_default, info.names.front() == c.want) << info.folder;
    }
  }
}

TEST_F(CertStoreTest, InfoListsFoldersInOrder) {
  make("b.test", {"*.b.test", "b.test"});
  make("a.test", {"a.test", "www.a.test"});
  fs::create_directories(certs() / ".staging");  // hidden: not an identity
  overwrite(certs() / "README", "not an identity\n");
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  std::vector<CertInfo> info = store.info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].folder, "a.test");
  EXPECT_EQ(info[0].names, (std::vector<std::string>{"a.test", "www.a.test"}));
  EXPECT_TRUE(info[0].is_default);
  EXPECT_EQ(info[1].folder, "b.test");
  EXPECT_EQ(info[1].names, (std::vector<std::string>{"*.b.test", "b.test"}));
  EXPECT_FALSE(info[1].is_default);
  auto now = std::chrono::system_clock::now();
  EXPECT_GT(info[1].not_after, now + std::chrono::hours(24 * 29));
  EXPECT_LT(info[1].not_after, now + std::chrono::hours(24 * 31));
}

TEST_F(CertStoreTest, ReloadServesNewFilesWhileOldContextsStayValid) {
  make("a.test", {"a.test"});
  make("b.test", {"*.b.test"});
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  std::shared_ptr<boost::asio::ssl::context> old_ctx = store.context();
  Seen old_a = handshake(old_ctx, {.sni = "a.test"});
  Seen old_b = handshake(old_ctx, {.sni = "x.b.test"});
  ASSERT_TRUE(old_a.ok() && old_b.ok());
  ASSERT_EQ(old_b.names.front(), "*.b.test");
  test::TlsPair live(store.context(), {.sni = "x.b.test"});
  ASSERT_TRUE(live.handshake().ok());

  ReloadResult r = store.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.error, "");

  make("a.test", {"a.test"});  // a renewal: new key, new serial
  make("b.test", {"*.b.test"});
  r = store.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(store.reload_if_changed().changed);  // reported once
  EXPECT_TRUE(store.reload().changed);  // SIGHUP reloads regardless; old_ctx is now two behind

  Seen new_a = handshake(store.context(), {.sni = "a.test"});
  Seen new_b = handshake(store.context(), {.sni = "x.b.test"});
  ASSERT_TRUE(new_a.ok() && new_b.ok());
  EXPECT_NE(new_a.serial, old_a.serial);
  EXPECT_NE(new_b.serial, old_b.serial);

  // A session that took the old context keeps it, SNI table included.
  EXPECT_EQ(handshake(old_ctx, {.sni = "a.test"}).serial, old_a.serial);
  EXPECT_EQ(handshake(old_ctx, {.sni = "x.b.test"}).serial, old_b.serial);
  EXPECT_EQ(live.client_to_server("EHLO client.test\r\n"), "EHLO client.test\r\n");
}

struct Breakage {
  const char* what;
  std::function<void(const fs::path& folder, const fs::path& spare)> apply;
  const char* want_error;
};

TEST_F(CertStoreTest, BrokenReplacementKeepsThePreviousCertificate) {
  const Breakage cases[] = {
      {"key of another certificate",
       [](const fs::path& f, const fs::path& s) {
         fs::copy_file(s / kPrivkeyFile, f / kPrivkeyFile, fs::copy_options::overwrite_existing);
       },
       "privkey.pem does not match fullchain.pem"},
      {"half-written chain",
       [](const fs::path& f, const fs::path&) {
         std::string pem = slurp(f / kFullchainFile);
         overwrite(f / kFullchainFile, pem.substr(0, pem.size() / 2));
       },
       "fullchain.pem"},
      {"truncated intermediate",
       [](const fs::path& f, const fs::path& s) {
         std::string ca = slurp(s / kFullchainFile);
         overwrite(f / kFullchainFile, slurp(f / kFullchainFile) + ca.substr(0, ca.size() / 2));
       },
       "fullchain.pem"},
      {"not PEM",
       [](const fs::path& f, const fs::path&) { overwrite(f / kFullchainFile, "hello\n"); },
       "fullchain.pem"},
      {"empty key", [](const fs::path& f, const fs::path&) { overwrite(f / kPrivkeyFile, ""); },
       "privkey.pem"},
      {"missing key", [](const fs::path& f, const fs::path&) { fs::remove(f / kPrivkeyFile); },
       "privkey.pem: No such file or directory"},
  };
  for (const Breakage& c : cases) {
    SCOPED_TRACE(c.what);
    fs::remove_all(certs());
    make("a.test", {"a.test"});
    CertStore store(certs(), "a.test", MinTls::V1_2);
    store.load();
    Seen before = handshake(store.context(), {});
    ASSERT_TRUE(before.ok());

    c.apply(certs() / "a.test", spare());
    ReloadResult r = store.reload_if_changed();
    EXPECT_FALSE(r.changed);
    EXPECT_NE(r.error.find("certs folder a.test: "), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(c.want_error), std::string::npos) << r.error;

    ASSERT_TRUE(store.has_tls());
    EXPECT_EQ(handshake(store.context(), {}).serial, before.serial);
    r = store.reload_if_changed();  // nothing changed since: no second report
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.error, "");

    make("a.test", {"a.test"});  // the fixed file
    r = store.reload_if_changed();
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.error, "");
    Seen after = handshake(store.context(), {});
    EXPECT_TRUE(after.ok());
    EXPECT_NE(after.serial, before.serial);
  }
}

TEST_F(CertStoreTest, LoadThrowsNamingTheBrokenFolder) {
  make("a.test", {"a.test"});
  make("b.test", {"b.test"});
  fs::copy_file(spare() / kPrivkeyFile, certs() / "b.test" / kPrivkeyFile,
                fs::copy_options::overwrite_existing);
  CertStore store(certs(), "a.test", MinTls::V1_2);
  try {
    store.load();
    FAIL() << "load() accepted a key that does not match its certificate";
  } catch (const CertsError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("certs folder b.test: privkey.pem does not match fullchain.pem: "),
              std::string::npos)
        << what;
  }
  EXPECT_FALSE(store.has_tls());
}

TEST_F(CertStoreTest, RemovingEveryFolderKeepsThePreviousCertificates) {
  make("a.test", {"a.test"});
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  fs::remove_all(certs());
  ReloadResult r = store.reload_if_changed();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.find("holds no certificate folder"), std::string::npos) << r.error;
  ASSERT_TRUE(store.has_tls());
  EXPECT_TRUE(handshake(store.context(), {}).ok());
}

TEST_F(CertStoreTest, SendsTheIntermediatesOfTheChain) {
  make("a.test", {"a.test"});
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  EXPECT_EQ(handshake(store.context(), {}).chain_length, 1);
  fs::path chain = certs() / "a.test" / kFullchainFile;
  overwrite(chain, slurp(chain) + slurp(spare() / kFullchainFile));
  ASSERT_TRUE(store.reload_if_changed().changed);
  Seen seen = handshake(store.context(), {});
  EXPECT_EQ(seen.chain_length, 2);
  EXPECT_EQ(seen.names.front(), "a.test");
}

// certbot's layout: certs/a.test → live/a.test/ whose files link into archive/, and a renewal
// swaps the links to the next numbered files.
TEST_F(CertStoreTest, FollowsLetsEncryptSymlinks) {
  fs::path le = scratch_.path() / "letsencrypt";
  auto issue = [&](int n) {
    fs::path staging = scratch_.path() / ("issue" + std::to_string(n));
    make_self_signed(staging, {"a.test"}, 30);
    fs::create_directories(le / "archive/a.test");
    fs::create_directories(le / "live/a.test");
    for (std::string name : {"fullchain", "privkey"}) {
      std::string numbered = name + std::to_string(n) + ".pem";
      fs::rename(staging / (name + ".pem"), le / "archive/a.test" / numbered);
      fs::path tmp = le / "live/a.test" / (name + ".tmp");
      fs::create_symlink(fs::path("../../archive/a.test") / numbered, tmp);
      fs::rename(tmp, le / "live/a.test" / (name + ".pem"));
    }
  };
  issue(1);
  fs::create_directories(certs());
  fs::create_directory_symlink(le / "live/a.test", certs() / "a.test");
  CertStore store(certs(), "a.test", MinTls::V1_2);
  store.load();
  Seen first = handshake(store.context(), {.sni = "a.test"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.names.front(), "a.test");

  issue(2);
  ReloadResult r = store.reload_if_changed();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  Seen second = handshake(store.context(), {.sni = "a.test"});
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.serial, first.serial);
}

TEST_F(CertStoreTest, TlsVersionPolicy) {
  make("a.test", {"a.test"});
  struct Case {
    MinTls min;
    int client_min;
    int client_max;
    int want_version;  // 0: refused
  };
  const Case cases[] = {
      {MinTls::V1_2, TLS1_VERSION, TLS1_1_VERSION, 0},  // RFC 8996
      {MinTls::V1_2, TLS1_2_VERSION, TLS1_2_VERSION, TLS1_2_VERSION},
      {MinTls::V1_2, 0, 0, TLS1_3_VERSION},
      {MinTls::V1_3, TLS1_2_VERSION, TLS1_2_VERSION, 0},
      {MinTls::V1_3, 0, 0, TLS1_3_VERSION},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.client_max);
    CertStore store(certs(), "a.test", c.min);
    store.load();
    Seen seen =
        handshake(store.context(),
                  {.sni = "a.test", .min_version = c.client_min, .max_version = c.client_max});
    if (c.want_version == 0) {
      EXPECT_FALSE(seen.ok());
      EXPECT_NE(seen.server_error.find("unsupported protocol"), std::string::npos)
          << seen.server_error;
    } else {
      ASSERT_TRUE(seen.ok()) << seen.client_error << seen.server_error;
      EXPECT_EQ(seen.version, c.want_version);
    }
  }
}

// tls.session_tickets: none by default (Microsoft's senders fail against servers that issue
// them), RFC 5077 tickets when turned on. TLS 1.3's post-handshake tickets are seen by t-35
// through `openssl s_client`.
TEST_F(CertStoreTest, SessionTicketsOnlyWhenAsked) {
  make("a.test", {"a.test"});
  for (bool tickets : {false, true}) {
    SCOPED_TRACE(tickets);
    CertStore store(certs(), "a.test", MinTls::V1_2, tickets);
    store.load();
    Seen seen =
        handshake(store.context(),
                  {.sni = "a.test", .min_version = TLS1_2_VERSION, .max_version = TLS1_2_VERSION});
    ASSERT_TRUE(seen.ok()) << seen.client_error << seen.server_error;
    EXPECT_EQ(seen.ticket, tickets);
  }
}

}  // namespace
}  // namespace hk::certs
