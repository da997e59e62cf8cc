// DKIM keys: generation, loading domains/<domain>/dkim/<selector>.pem, and the DNS TXT record
// that publishes the public half (RFC 6376 §3.6.1, RFC 8463 for Ed25519).
// SECURITY: private keys are read here; callers write them with mode 0600 in a 0700 folder.
#pragma once

#include <openssl/types.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hk::dkim {

enum class DkimAlgo { Rsa2048, Rsa3072, Ed25519 };

// "rsa2048", "rsa3072", "ed25519"; parse returns false for anything else.
std::string_view algo_name(DkimAlgo algo);
bool parse_algo(std::string_view text, DkimAlgo& out);

// A fresh private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Throws std::runtime_error
// when OpenSSL fails (it does not, short of memory or entropy).
std::string generate_key_pem(DkimAlgo algo);

struct DkimKey {
  std::string domain;
  std::string selector;  // the file name without ".pem"
  // The private key, parsed once when loaded: signing threads share it (OpenSSL allows concurrent
  // signing with one EVP_PKEY), so no message pays for parsing PEM again.
  std::shared_ptr<EVP_PKEY> pkey;
  DkimAlgo algo = DkimAlgo::Rsa2048;
  // The p= value: base64 of the SubjectPublicKeyInfo DER for RSA (RFC 6376 §3.6.1); for Ed25519
  // the raw 32-byte public key in base64 (RFC 8463 §4.2).
  std::string public_b64;
};

// A key from PEM text (PKCS#8 or traditional RSA). Throws std::runtime_error starting with `what`
// when it is not a usable key (same rules as load_key).
DkimKey parse_key(std::string_view pem, const std::string& domain, const std::string& selector,
                  const std::string& what);

// Loads one key; the selector is the file's stem. RSA keys of 2048 and 3072 bits map to their
// algo; other RSA sizes of at least 1024 bits (RFC 8301 §3.2) are accepted as Rsa2048/Rsa3072 by
// size. Throws std::runtime_error naming the file when it is unreadable or not a usable key.
DkimKey load_key(const std::filesystem::path& path, const std::string& domain);

// Every domains_dir/domain/dkim/*.pem, sorted by selector; empty when there is no dkim/ folder.
// Throws like load_key.
std::vector<DkimKey> load_domain_keys(const std::filesystem::path& domains_dir,
                                      const std::string& domain);

// "v=DKIM1; k=rsa; p=..." (k=ed25519 for Ed25519), RFC 6376 §3.6.1.
std::string dns_txt_value(const DkimKey& key);

// One zone-file line: `S._domainkey.DOMAIN. IN TXT ( "..." "..." )`, the value split into
// character-strings of at most 255 octets each (RFC 1035 §3.3, §3.3.14).
std::string dns_record(const DkimKey& key);

// A selector for a new key made at `now`: "hkYYYYMM" (UTC), or "hkYYYYMMb", "hkYYYYMMc"... when
// `dkim_dir` already holds a .pem of that name, so that a rotation never reuses a selector.
std::string default_selector(std::time_t now, const std::filesystem::path& dkim_dir);

}  // namespace hk::dkim
