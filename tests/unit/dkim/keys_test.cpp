// Tests for DKIM key generation, loading, DNS record text and selector choice.
#include "lib/dkim/keys.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>

#include "tests/support/temp_dir.hpp"

namespace hk::dkim {
namespace {

namespace fs = std::filesystem;

using hk::test::TempDir;

// The quoted character-strings of a zone-file line, unquoted.
std::vector<std::string> quoted_strings(const std::string& record) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = record.find('"', pos)) != std::string::npos) {
    size_t end = record.find('"', pos + 1);
    out.push_back(record.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return out;
}

struct AlgoCase {
  DkimAlgo algo;
  std::string k;
  size_t min_p_len;
  size_t max_p_len;
};

class KeygenTest : public ::testing::TestWithParam<AlgoCase> {};

TEST_P(KeygenTest, GenerateLoadRoundTrip) {
  const AlgoCase& c = GetParam();
  TempDir dir;
  std::string pem = generate_key_pem(c.algo);
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n")) << pem.substr(0, 40);
  dir.write("example.org/dkim/sel1.pem", pem);

  DkimKey key = load_key(dir.path() / "example.org" / "dkim" / "sel1.pem", "example.org");
  EXPECT_EQ(key.domain, "example.org");
  EXPECT_EQ(key.selector, "sel1");
  ASSERT_NE(key.pkey, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.pkey.get()),
            c.algo == DkimAlgo::Ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA);
  EXPECT_EQ(key.algo, c.algo);
  EXPECT_GE(key.public_b64.size(), c.min_p_len);
  EXPECT_LE(key.public_b64.size(), c.max_p_len);
  EXPECT_EQ(dns_txt_value(key), "v=DKIM1; k=" + c.k + "; p=" + key.public_b64);

  std::string record = dns_record(key);
  EXPECT_TRUE(record.starts_with("sel1._domainkey.example.org. IN TXT ( \"")) << record;
  EXPECT_TRUE(record.ends_with("\" )")) << record;
  EXPECT_EQ(record.find('\n'), std::string::npos);
  std::string joined;
  for (const std::string& s : quoted_strings(record)) {
    EXPECT_LE(s.size(), 255u);
    joined += s;
  }
  EXPECT_EQ(joined, dns_txt_value(key));
}

INSTANTIATE_TEST_SUITE_P(
    Algos, KeygenTest,
    ::testing::Values(
        // SubjectPublicKeyInfo DER of RSA-2048 is 294 octets (392 base64), RSA-3072 422 (564).
        AlgoCase{DkimAlgo::Rsa2048, "rsa", 392, 392}, AlgoCase{DkimAlgo::Rsa3072, "rsa", 564, 564},
        // RFC 8463 §4.2: 32 raw octets, 44 base64 characters.
        AlgoCase{DkimAlgo::Ed25519, "ed25519", 44, 44}));

TEST(DnsRecord, LongKeyIsSplitIntoSeveralStrings) {
  DkimKey key;
  key.domain = "example.org";
  key.selector = "s";
  key.algo = DkimAlgo::Rsa3072;
  key.public_b64 = std::string(564, 'A');
  std::vector<std::string> parts = quoted_strings(dns_record(key));
  // "v=DKIM1; k=rsa; p=" is 18 octets: 582 octets need three strings.
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 255u);
  EXPECT_EQ(parts[1].size(), 255u);
  EXPECT_EQ(parts[2].size(), 72u);
}

TEST(DnsRecord, ShortValueIsOneString) {
  DkimKey key;
  key.domain = "example.org";
  key.selector = "s";
  key.algo = DkimAlgo::Ed25519;
  key.public_b64 = "abc=";
  EXPECT_EQ(dns_record(key), "s._domainkey.example.org. IN TXT ( \"v=DKIM1; k=ed25519; p=abc=\" )");
}

TEST(LoadKey, ErrorsNameTheFile) {
  TempDir dir;
  struct Case {
    std::string name;
    std::string content;  // empty: the file is not created
  };
  for (const Case& c : {Case{"missing.pem", ""}, Case{"garbage.pem", "not a key\n"}}) {
    fs::path file = dir.path() / c.name;
    if (!c.content.empty()) {
      dir.write(c.name, c.content);
    }
    try {
      load_key(file, "example.org");
      ADD_FAILURE() << c.name << " loaded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    }
  }
}

TEST(LoadDomainKeys, AllPemFilesSorted) {
  TempDir dir;
  dir.write("example.org/dkim/zeta.pem", generate_key_pem(DkimAlgo::Ed25519));
  dir.write("example.org/dkim/alpha.pem", generate_key_pem(DkimAlgo::Ed25519));
  dir.write("example.org/dkim/notes.txt", "ignored");
  std::vector<DkimKey> keys = load_domain_keys(dir.path(), "example.org");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].selector, "alpha");
  EXPECT_EQ(keys[1].selector, "zeta");
  EXPECT_TRUE(load_domain_keys(dir.path(), "other.org").empty());
}

TEST(DefaultSelector, DateAndSuffixes) {
  TempDir dir;
  std::time_t t = 1795392000;  // 2026-11-23 UTC
  EXPECT_EQ(default_selector(t, dir.path()), "hk202611");
  dir.write("hk202611.pem", "x");
  EXPECT_EQ(default_selector(t, dir.path()), "hk202611b");
  dir.write("hk202611b.pem", "x");
  EXPECT_EQ(default_selector(t, dir.path()), "hk202611c");
}

TEST(Algo, NamesRoundTrip) {
  for (DkimAlgo a : {DkimAlgo::Rsa2048, DkimAlgo::Rsa3072, DkimAlgo::Ed25519}) {
    DkimAlgo parsed = DkimAlgo::Rsa2048;
    EXPECT_TRUE(parse_algo(algo_name(a), parsed));
    EXPECT_EQ(parsed, a);
  }
  DkimAlgo parsed = DkimAlgo::Rsa2048;
  EXPECT_FALSE(parse_algo("rsa1024", parsed));
}

}  // namespace
}  // namespace hk::dkim
