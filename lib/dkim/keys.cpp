// DKIM key generation, loading and DNS record text.
// SECURITY: this file handles private keys; it never logs or prints them.
#include "lib/dkim/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include <algorithm>
#include <span>
#include <stdexcept>

#include "lib/base/base64.hpp"
#include "lib/base/files.hpp"
#include "lib/base/openssl.hpp"

namespace hk::dkim {
namespace {

namespace fs = std::filesystem;
using base::BioPtr;
using base::EvpPkeyPtr;
using base::openssl_error;

// RFC 1035 §3.3: a <character-string> is a length octet followed by at most 255 octets.
constexpr size_t kMaxCharacterString = 255;
// RFC 8463 §4.2: the Ed25519 public key is the raw 32 octets.
constexpr size_t kEd25519KeySize = 32;
// RFC 8301 §3.2: verifiers need not accept RSA keys under 1024 bits; we refuse them for signing.
constexpr int kMinRsaBits = 1024;

std::string public_key_b64(EVP_PKEY* pkey, DkimAlgo algo) {
  if (algo == DkimAlgo::Ed25519) {
    unsigned char raw[kEd25519KeySize];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != kEd25519KeySize) {
      throw std::runtime_error("cannot extract the Ed25519 public key: " + openssl_error());
    }
    return base::base64_encode(std::span(raw, len));
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) {
    throw std::runtime_error("cannot encode the RSA public key: " + openssl_error());
  }
  std::string out = base::base64_encode(std::span(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string_view algo_name(DkimAlgo algo) {
  switch (algo) {
    case DkimAlgo::Rsa2048:
      return "rsa2048";
    case DkimAlgo::Rsa3072:
      return "rsa3072";
    case DkimAlgo::Ed25519:
      return "ed25519";
  }
  return "?";
}

bool parse_algo(std::string_view text, DkimAlgo& out) {
  for (DkimAlgo a : {DkimAlgo::Rsa2048, DkimAlgo::Rsa3072, DkimAlgo::Ed25519}) {
    if (text == algo_name(a)) {
      out = a;
      return true;
    }
  }
  return false;
}

std::string generate_key_pem(DkimAlgo algo) {
  EvpPkeyPtr pkey;
  switch (algo) {
    case DkimAlgo::Rsa2048:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
      break;
    case DkimAlgo::Rsa3072:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}));
      break;
    case DkimAlgo::Ed25519:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (!pkey) {
    throw std::runtime_error("key generation failed: " + openssl_error());
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("cannot write the key as PEM: " + openssl_error());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

DkimKey parse_key(std::string_view pem, const std::string& domain, const std::string& selector,
                  const std::string& what) {
  DkimKey key;
  key.domain = domain;
  key.selector = selector;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) {
    throw std::runtime_error(what + ": not a PEM private key: " + openssl_error());
  }
  switch (EVP_PKEY_get_base_id(pkey.get())) {
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(pkey.get());
      if (bits < kMinRsaBits) {
        throw std::runtime_error(what + ": RSA key of " + std::to_string(bits) +
                                 " bits is too short (RFC 8301 §3.2)");
      }
      key.algo = bits >= 3072 ? DkimAlgo::Rsa3072 : DkimAlgo::Rsa2048;
      break;
    }
    case EVP_PKEY_ED25519:
      key.algo = DkimAlgo::Ed25519;
      break;
    default:
      throw std::runtime_error(what + ": neither an RSA nor an Ed25519 key");
  }
  key.public_b64 = public_key_b64(pkey.get(), key.algo);
  key.pkey = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return key;
}

DkimKey load_key(const fs::path& path, const std::string& domain) {
  std::string pem;
  if (std::error_code ec = base::read_file(path, pem)) {
    throw std::runtime_error(path.string() + ": " + ec.message());
  }
  DkimKey key = parse_key(pem, domain, path.stem().string(), path.string());
  OPENSSL_cleanse(pem.data(), pem.size());
  return key;
}

std::vector<DkimKey> load_domain_keys(const fs::path& domains_dir, const std::string& domain) {
  fs::path dir = domains_dir / domain / "dkim";
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return {};
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".pem" && entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<DkimKey> keys;
  for (const fs::path& file : files) {
    keys.push_back(load_key(file, domain));
  }
  return keys;
}

std::string dns_txt_value(const DkimKey& key) {
  std::string k = key.algo == DkimAlgo::Ed25519 ? "ed25519" : "rsa";
  return "v=DKIM1; k=" + k + "; p=" + key.public_b64;
}

std::string dns_record(const DkimKey& key) {
  std::string value = dns_txt_value(key);
  std::string out = key.selector + "._domainkey." + key.domain + ". IN TXT (";
  // The value holds no '"' or '\\', so each piece is quoted as is.
  for (size_t pos = 0; pos < value.size(); pos += kMaxCharacterString) {
    out += " \"" + value.substr(pos, kMaxCharacterString) + "\"";
  }
  out += " )";
  return out;
}

std::string default_selector(std::time_t now, const fs::path& dkim_dir) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  char base[32];
  std::strftime(base, sizeof base, "hk%Y%m", &tm);
  std::string selector = base;
  std::error_code ec;
  for (char suffix = 'b'; fs::exists(dkim_dir / (selector + ".pem"), ec); ++suffix) {
    if (suffix > 'z') {
      // 26 keys in one month: fall back to the day and time, which do not repeat.
      std::strftime(base, sizeof base, "hk%Y%m%d%H%M%S", &tm);
      return base;
    }
    selector = std::string(base) + suffix;
  }
  return selector;
}

}  // namespace hk::dkim
