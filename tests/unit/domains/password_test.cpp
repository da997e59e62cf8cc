// scrypt hashing: encoded form, verification, malformed input, parameter limits.
#include "domains/password.hpp"

#include <gtest/gtest.h>

#include "domains/domains_error.hpp"

namespace hk::domains {
namespace {

constexpr ScryptParams kFast{4, 8, 1};  // cheap parameters so the tests stay quick

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

TEST(Password, DefaultParamsEncodedForm) {
  std::string h = hash_password("correct horse");
  auto f = split(h, '$');
  ASSERT_EQ(f.size(), 6u) << h;
  EXPECT_EQ(f[0], "scrypt");
  EXPECT_EQ(f[1], "14");
  EXPECT_EQ(f[2], "8");
  EXPECT_EQ(f[3], "1");
  EXPECT_EQ(f[4].size(), 24u);  // 16 bytes in base64
  EXPECT_EQ(f[5].size(), 44u);  // 32 bytes in base64
  EXPECT_TRUE(is_valid_password_hash(h));
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horse "));
}

TEST(Password, RoundTripTable) {
  for (std::string_view pw : {"a", "p\xc3\xa4ssw\xc3\xb6rd", "with space", "x$y:z,#"}) {
    std::string h = hash_password(pw, kFast);
    EXPECT_TRUE(h.starts_with("scrypt$4$8$1$")) << h;
    EXPECT_TRUE(verify_password(h, pw)) << pw;
    EXPECT_FALSE(verify_password(h, std::string(pw) + "x")) << pw;
    EXPECT_FALSE(verify_password(h, "")) << pw;
  }
  std::string nul("a\0b", 3);
  std::string h = hash_password(nul, kFast);
  EXPECT_TRUE(verify_password(h, nul));
  EXPECT_FALSE(verify_password(h, "a"));
}

TEST(Password, FreshSaltEachTime) {
  EXPECT_NE(hash_password("same", kFast), hash_password("same", kFast));
}

TEST(Password, MalformedNeverVerifies) {
  std::string good = hash_password("pw", kFast);
  auto f = split(good, '$');
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      out += (i ? "$" : "") + v[i];
    }
    return out;
  };
  std::vector<std::string> bad = {
      "",
      "pw",
      "scrypt",
      "bcrypt$4$8$1$" + f[4] + "$" + f[5],
      "scrypt$4$8$1$" + f[4],
      "scrypt$4$8$1$" + f[4] + "$" + f[5] + "$",
      "scrypt$x$8$1$" + f[4] + "$" + f[5],
      "scrypt$-4$8$1$" + f[4] + "$" + f[5],
      "scrypt$0$8$1$" + f[4] + "$" + f[5],
      "scrypt$21$8$1$" + f[4] + "$" + f[5],
      "scrypt$20$16$1$" + f[4] + "$" + f[5],  // 2 GiB of memory
      "scrypt$4$0$1$" + f[4] + "$" + f[5],
      "scrypt$4$8$17$" + f[4] + "$" + f[5],
      "scrypt$4$8$1$" + f[4] + "!$" + f[5],
      "scrypt$4$8$1$QUJD$" + f[5],                    // 3-byte salt
      "scrypt$4$8$1$" + f[4] + "$QUJDREVGR0g=",       // 8-byte key
      "scrypt$4$8$1$" + f[4] + "$" + f[5].substr(1),  // not a multiple of 4
      "scrypt$4$8$1$ " + f[4] + "$" + f[5],
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(is_valid_password_hash(b)) << b;
    EXPECT_FALSE(verify_password(b, "pw")) << b;
  }
  // A changed key byte is a valid form that does not match.
  auto g = f;
  g[5][0] = g[5][0] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(is_valid_password_hash(join(g)));
  EXPECT_FALSE(verify_password(join(g), "pw"));
  EXPECT_TRUE(verify_password(join(f), "pw"));
}

TEST(Password, ParamsOutOfRangeThrow) {
  EXPECT_THROW(hash_password("pw", {0, 8, 1}), DomainsError);
  EXPECT_THROW(hash_password("pw", {21, 8, 1}), DomainsError);
  EXPECT_THROW(hash_password("pw", {4, 0, 1}), DomainsError);
  EXPECT_THROW(hash_password("pw", {4, 8, 0}), DomainsError);
}

TEST(Password, RaisedParamsStillVerify) {
  // Entries keep their own parameters, so old and new hashes live side by side.
  std::string old_hash = hash_password("pw", {4, 1, 1});
  std::string new_hash = hash_password("pw", {5, 8, 2});
  EXPECT_TRUE(verify_password(old_hash, "pw"));
  EXPECT_TRUE(verify_password(new_hash, "pw"));
}

}  // namespace
}  // namespace hk::domains
