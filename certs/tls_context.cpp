// One TLS identity: certificate folder → server SSL_CTX.
//
// SECURITY: reads a private key; the key's PEM text is wiped from memory once parsed, and an
// encrypted key fails instead of prompting on a terminal.
#include "certs/tls_context.hpp"

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <string_view>

#include "lib/base/ascii.hpp"
#include "lib/base/files.hpp"
#include "lib/base/private_file.hpp"

namespace hk::certs {
namespace {

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, base::Free<GENERAL_NAMES_free>>;

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only (RFC 7525 §4.2, as updated by
// RFC 9325 §4.2). TLS 1.3 suites are OpenSSL's defaults, all of which are AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr std::string_view kSessionIdContext = "hikyaku";

// Wipes a secret's text when it goes out of scope, whatever path the parsing took.
class Wipe {
 public:
  explicit Wipe(std::string& s) : s_(s) {}
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;
  ~Wipe() { OPENSSL_cleanse(s_.data(), s_.size()); }

 private:
  std::string& s_;
};

// A key protected by a passphrase cannot be used unattended; say so instead of prompting.
int no_password(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) noexcept { return 0; }

[[noreturn]] void fail(const std::string& folder, std::string_view what, const std::string& why) {
  throw CertsError("certs folder " + folder + ": " + std::string(what) + ": " + why);
}

std::string read_pem(const std::filesystem::path& dir, const std::string& folder,
                     const char* file) {
  std::string text;
  if (std::error_code ec = base::read_file(dir / file, text)) {
    fail(folder, file, ec.message());
  }
  // OpenSSL's own words for this case ("DECODER routines::unsupported") send people astray.
  if (text.find("-----BEGIN ") == std::string::npos) {
    fail(folder, file, text.empty() ? "empty file" : "no PEM block in the file");
  }
  return text;
}

base::BioPtr memory_bio(const std::string& text) {
  return base::BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

base::SslCtxPtr new_server_ctx(const std::string& folder, MinTls min, bool session_tickets) {
  base::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    fail(folder, "SSL_CTX_new", base::openssl_error());
  }
  // RFC 8996 deprecates TLS 1.0 and 1.1; RFC 9325 §3.1.1 asks for 1.2 at least.
  int version = min == MinTls::V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx.get(), version) != 1) {
    fail(folder, "min protocol version", base::openssl_error());
  }
  // No compression (CRIME, RFC 9325 §3.3) and no renegotiation (RFC 9325 §3.5: a client
  // could use it to spend our CPU on handshakes); our preference decides the suite.
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    fail(folder, "cipher list", base::openssl_error());
  }
  if (!session_tickets) {
    // No session tickets unless tls.session_tickets: Microsoft's sending servers are known to
    // fail handshakes with servers that issue them, and an MTA gains little from resumption.
    // SSL_OP_NO_TICKET stops RFC 5077 tickets in TLS 1.2; in TLS 1.3 it would still send
    // stateful tickets (RFC 8446 §4.6.1), so the count of tickets goes to 0 as well.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    if (SSL_CTX_set_num_tickets(ctx.get(), 0) != 1) {
      fail(folder, "session tickets", base::openssl_error());
    }
  }
  // Idle SMTP connections are many; let OpenSSL free their buffers between records.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(ctx.get(),
                                 reinterpret_cast<const unsigned char*>(kSessionIdContext.data()),
                                 static_cast<unsigned>(kSessionIdContext.size()));
  return ctx;
}

// use_certificate_chain_file from memory: the leaf, then every further certificate as the chain
// sent to clients. A half-written file fails on its truncated PEM block.
X509* use_chain(SSL_CTX* ctx, const std::string& folder, const std::string& pem) {
  base::BioPtr bio = memory_bio(pem);
  base::X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, no_password, nullptr));
  if (!leaf) {
    fail(folder, kFullchainFile, base::openssl_error());
  }
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    fail(folder, kFullchainFile, base::openssl_error());
  }
  for (;;) {
    base::X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
    if (!ca) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the normal end of the file
        break;
      }
      fail(folder, kFullchainFile, base::openssl_error());
    }
    if (SSL_CTX_add1_chain_cert(ctx, ca.get()) != 1) {
      fail(folder, kFullchainFile, base::openssl_error());
    }
  }
  return SSL_CTX_get0_certificate(ctx);
}

void use_key(SSL_CTX* ctx, const std::string& folder, const std::string& pem) {
  base::BioPtr bio = memory_bio(pem);
  base::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key) {
    fail(folder, kPrivkeyFile, base::openssl_error());
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    fail(folder, std::string(kPrivkeyFile) + " does not match " + kFullchainFile,
         base::openssl_error());
  }
}

std::chrono::system_clock::time_point not_after(const std::string& folder, X509* cert) {
  tm t{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t) != 1) {
    fail(folder, kFullchainFile, "unreadable notAfter time");
  }
  return std::chrono::system_clock::from_time_t(timegm(&t));
}

}  // namespace

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  auto add = [&names](const unsigned char* data, int size) {
    if (data == nullptr || size <= 0) {
      return;
    }
    std::string name(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    // An embedded NUL is the classic trick to make "bank.com\0.evil.com" look like bank.com.
    if (name.find('\0') != std::string::npos) {
      return;
    }
    base::lower_in_place(name);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  };
  GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type == GEN_DNS) {
      add(ASN1_STRING_get0_data(gn->d.dNSName), ASN1_STRING_length(gn->d.dNSName));
    }
  }
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    add(utf8, n);
    OPENSSL_free(utf8);
  }
  ERR_clear_error();  // a certificate without SANs leaves a harmless "not found" behind
  return names;
}

Identity load_identity(const std::filesystem::path& folder_path, MinTls min, bool session_tickets) {
  Identity id;
  id.folder = folder_path.filename().string();
  ERR_clear_error();
  std::string chain = read_pem(folder_path, id.folder, kFullchainFile);
  // SECURITY: a private key other users can read is refused (at reload the old one stays).
  if (std::string problem = base::private_file_problem(folder_path / kPrivkeyFile);
      !problem.empty()) {
    throw CertsError(problem);
  }
  std::string key = read_pem(folder_path, id.folder, kPrivkeyFile);
  Wipe wipe(key);
  id.ctx = new_server_ctx(id.folder, min, session_tickets);
  X509* leaf = use_chain(id.ctx.get(), id.folder, chain);
  use_key(id.ctx.get(), id.folder, key);
  id.names = certificate_names(leaf);
  if (id.names.empty()) {
    fail(id.folder, kFullchainFile, "the certificate names no host (no DNS subjectAltName or CN)");
  }
  id.not_after = not_after(id.folder, leaf);
  return id;
}

}  // namespace hk::certs
