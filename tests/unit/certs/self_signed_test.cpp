// Tests for make_self_signed(): the files it writes load as a working identity.
#include "certs/self_signed.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "certs/tls_context.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/certs/test_support.hpp"

namespace hk::certs {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::system_clock;

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

struct KeyCase {
  KeyType type;
  int evp_type;
  int days;
};

TEST(MakeSelfSigned, WritesALoadableIdentity) {
  const KeyCase cases[] = {
      {KeyType::EcP256, EVP_PKEY_EC, 30},
      {KeyType::Rsa2048, EVP_PKEY_RSA, 365},
      {KeyType::EcP256, EVP_PKEY_EC, -1},  // already expired: still loads, info shows it
  };
  for (const KeyCase& c : cases) {
    SCOPED_TRACE(c.evp_type);
    hk::test::TempDir scratch;
    std::filesystem::path dir = scratch.path() / "mx.a.test";
    make_self_signed(dir, {"mx.a.test", "A.test", "*.c.test"}, c.days, c.type);

    EXPECT_EQ(mode_of(dir / kPrivkeyFile), 0600u);
    EXPECT_EQ(mode_of(dir / kFullchainFile), 0644u);

    Identity id = load_identity(dir, MinTls::V1_2);
    EXPECT_EQ(id.folder, "mx.a.test");
    EXPECT_EQ(id.names, (std::vector<std::string>{"mx.a.test", "a.test", "*.c.test"}));
    auto want = system_clock::now() + hours(24) * c.days;
    EXPECT_LT(id.not_after, want + minutes(2));
    EXPECT_GT(id.not_after, want - minutes(2));
    EXPECT_EQ(EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(id.ctx.get())), c.evp_type);
  }
}

TEST(MakeSelfSigned, RejectsInvalidNames) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"a..test"},
      {"a test"},
      {"a.test."},
      {".a.test"},
      {"*."},
      {"x*.a.test"},
      {"a.test", "evil\n.test"},
      {std::string(254, 'a')},
  };
  hk::test::TempDir scratch;
  for (const auto& names : cases) {
    EXPECT_THROW(make_self_signed(scratch.path() / "x", names), CertsError)
        << (names.empty() ? "(none)" : names.back());
  }
  EXPECT_FALSE(std::filesystem::exists(scratch.path() / "x" / kPrivkeyFile));
}

}  // namespace
}  // namespace hk::certs
