// scrypt hashing and verification of passwords; see password.hpp for the encoded form.
#include "domains/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

#include "domains/domains_error.hpp"
#include "lib/base/base64.hpp"
#include "lib/base/openssl.hpp"

namespace hk::domains {
namespace {

constexpr std::string_view kScheme = "scrypt";
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;
constexpr uint64_t kMaxMemory = uint64_t{1} << 30;

using Bytes = std::vector<unsigned char>;

struct Parsed {
  ScryptParams params;
  Bytes salt;
  Bytes key;
};

bool params_in_range(const ScryptParams& p) {
  if (p.log_n < 1 || p.log_n > 20 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16) {
    return false;
  }
  uint64_t memory = uint64_t{128} * static_cast<uint64_t>(p.r) * (uint64_t{1} << p.log_n);
  return memory <= kMaxMemory;
}

// A salt or key field: base64 with padding (RFC 4648 §4), not empty. The unused bits of the last
// group are not checked, as EVP_DecodeBlock, which read these fields before, did not.
std::optional<Bytes> decode_field(std::string_view in) {
  auto text = base::base64_decode(in, base::Base64Tail::AnyBits);
  if (in.empty() || !text) {
    return std::nullopt;
  }
  return Bytes(text->begin(), text->end());
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || s[0] == '-') {
    return std::nullopt;
  }
  return v;
}

std::optional<Parsed> parse(std::string_view encoded) {
  std::string_view field[6];
  for (int i = 0; i < 6; ++i) {
    size_t end = encoded.find('$');
    if ((end == std::string_view::npos) != (i == 5)) {
      return std::nullopt;
    }
    field[i] = encoded.substr(0, end);
    encoded.remove_prefix(end == std::string_view::npos ? encoded.size() : end + 1);
  }
  if (field[0] != kScheme) {
    return std::nullopt;
  }
  auto log_n = parse_int(field[1]);
  auto r = parse_int(field[2]);
  auto p = parse_int(field[3]);
  auto salt = decode_field(field[4]);
  auto key = decode_field(field[5]);
  if (!log_n || !r || !p || !salt || !key) {
    return std::nullopt;
  }
  Parsed out{{*log_n, *r, *p}, std::move(*salt), std::move(*key)};
  if (!params_in_range(out.params) || out.salt.size() < 8 || out.salt.size() > 64 ||
      out.key.size() < 16 || out.key.size() > 64) {
    return std::nullopt;
  }
  return out;
}

// Derives `key_len` bytes; false when OpenSSL fails (out of memory).
bool derive(std::string_view password, const Bytes& salt, const ScryptParams& p, Bytes& key) {
  uint64_t n = uint64_t{1} << p.log_n;
  auto r = static_cast<uint64_t>(p.r);
  auto par = static_cast<uint64_t>(p.p);
  // OpenSSL needs 128*r*(N+2) bytes for V plus 128*r*p for B; a little slack on top.
  uint64_t max_mem = 128 * r * (n + 2 + par) + (uint64_t{1} << 20);
  return EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n, r, par,
                        max_mem, key.data(), key.size()) == 1;
}

}  // namespace

std::string hash_password(std::string_view password) { return hash_password(password, {}); }

std::string hash_password(std::string_view password, const ScryptParams& params) {
  if (!params_in_range(params)) {
    throw DomainsError("scrypt parameters out of range");
  }
  Bytes salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw DomainsError("no random salt: " + base::openssl_error());
  }
  Bytes key(kKeyBytes);
  if (!derive(password, salt, params, key)) {
    throw DomainsError("scrypt failed: " + base::openssl_error());
  }
  std::string out(kScheme);
  for (int v : {params.log_n, params.r, params.p}) {
    out += '$';
    out += std::to_string(v);
  }
  out += '$' + base::base64_encode(salt) + '$' + base::base64_encode(key);
  return out;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  auto parsed = parse(encoded);
  if (!parsed) {
    return false;
  }
  Bytes key(parsed->key.size());
  if (!derive(password, parsed->salt, parsed->params, key)) {
    ERR_clear_error();
    return false;
  }
  return CRYPTO_memcmp(key.data(), parsed->key.data(), key.size()) == 0;
}

bool is_valid_password_hash(std::string_view encoded) { return parse(encoded).has_value(); }

void spend_dummy_password_check(std::string_view password) {
  // A fixed salt and key: the result is thrown away, only the time spent matters.
  static const Bytes salt(kSaltBytes, 0x5a);
  Bytes key(kKeyBytes);
  if (!derive(password, salt, ScryptParams{}, key)) {
    ERR_clear_error();
  }
}

}  // namespace hk::domains
