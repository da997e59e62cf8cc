// make_self_signed(): key generation and a self-signed X.509 v3 certificate through OpenSSL's C
// API (no openssl CLI at install time).
//
// SECURITY: writes a private key; it goes to disk with mode 0600 and its PEM text is wiped.
#include "certs/self_signed.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>

#include "certs/cert_store.hpp"
#include "certs/tls_context.hpp"
#include "lib/base/files.hpp"
#include "lib/base/openssl.hpp"

namespace hk::certs {
namespace {

using BignumPtr = std::unique_ptr<BIGNUM, base::Free<BN_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, base::Free<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, base::Free<GENERAL_NAME_free>>;
using Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, base::Free<ASN1_IA5STRING_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, base::Free<X509_EXTENSION_free>>;

// RFC 1035 §2.3.4: 255 octets on the wire, 253 as text without the trailing dot.
constexpr size_t kMaxHostName = 253;
// RFC 5280 Appendix A.1: ub-common-name INTEGER ::= 64.
constexpr size_t kMaxCommonName = 64;

[[noreturn]] void fail(const std::string& what) {
  throw CertsError("make_self_signed: " + what + ": " + base::openssl_error());
}

// Letters, digits, hyphens and dots (RFC 1123 §2.1), optionally behind a `*.` wildcard label.
bool valid_name(const std::string& name) {
  std::string_view rest = name;
  if (rest.starts_with("*.")) {
    rest.remove_prefix(2);
  }
  if (rest.empty() || name.size() > kMaxHostName || rest.front() == '.' || rest.back() == '.') {
    return false;
  }
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return rest.find("..") == std::string_view::npos;
}

base::EvpPkeyPtr generate_key(KeyType type) {
  base::EvpPkeyPtr key(type == KeyType::Rsa2048
                           ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                           : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    fail("key generation");
  }
  return key;
}

// 128 random bits, positive (RFC 5280 §4.1.2.2: at most 20 octets, unique per issuer).
void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    fail("serial");
  }
  bytes[0] &= 0x7f;
  BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    fail("serial");
  }
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    fail(std::string("extension ") + OBJ_nid2sn(nid));
  }
}

void add_subject_alt_names(X509* cert, const std::vector<std::string>& names) {
  GeneralNamesPtr sans(GENERAL_NAMES_new());
  if (!sans) {
    fail("subjectAltName");
  }
  for (const std::string& name : names) {
    Ia5StringPtr ia5(ASN1_IA5STRING_new());
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!ia5 || !gn ||
        ASN1_STRING_set(ia5.get(), name.data(), static_cast<int>(name.size())) != 1) {
      fail("subjectAltName");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5.release());
    if (sk_GENERAL_NAME_push(sans.get(), gn.get()) == 0) {
      fail("subjectAltName");
    }
    gn.release();
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, sans.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    fail("subjectAltName");
  }
}

std::string to_pem(int (*write)(BIO*, void*), void* object, const char* what) {
  base::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) {
    fail(what);
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  std::string pem(mem->data, mem->length);
  OPENSSL_cleanse(mem->data, mem->length);
  return pem;
}

int write_cert(BIO* bio, void* cert) { return PEM_write_bio_X509(bio, static_cast<X509*>(cert)); }

int write_key(BIO* bio, void* key) {
  return PEM_write_bio_PrivateKey(bio, static_cast<EVP_PKEY*>(key), nullptr, nullptr, 0, nullptr,
                                  nullptr);
}

}  // namespace

void make_self_signed(const std::filesystem::path& dir, const std::vector<std::string>& names,
                      int days, KeyType type) {
  if (names.empty()) {
    throw CertsError("make_self_signed: no host name given");
  }
  for (const std::string& name : names) {
    if (!valid_name(name)) {
      throw CertsError("make_self_signed: invalid host name '" + name + "'");
    }
  }
  ERR_clear_error();
  base::EvpPkeyPtr key = generate_key(type);
  base::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    fail("X509_new");
  }
  set_random_serial(cert.get());
  // A minute of slack for clients whose clock runs a little behind ours.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    fail("validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string& cn = names.front();
  if (cn.size() <= kMaxCommonName &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    fail("subject");
  }
  if (X509_set_issuer_name(cert.get(), subject) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    fail("issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), &ctx, NID_key_usage,
                type == KeyType::Rsa2048 ? "critical,digitalSignature,keyEncipherment"
                                         : "critical,digitalSignature");
  add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_subject_alt_names(cert.get(), names);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    fail("X509_sign");
  }

  std::string key_pem = to_pem(write_key, key.get(), "private key PEM");
  std::string cert_pem = to_pem(write_cert, cert.get(), "certificate PEM");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec) {
    ec = base::write_file_atomic(dir / kPrivkeyFile, key_pem, 0600);
  }
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  if (!ec) {
    ec = base::write_file_atomic(dir / kFullchainFile, cert_pem, 0644);
  }
  if (ec) {
    throw CertsError("make_self_signed: " + dir.string() + ": " + ec.message());
  }
}

}  // namespace hk::certs
