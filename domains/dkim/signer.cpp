// DKIM signing through libopendkim: feed the header fields one by one, then the body, then ask
// for the signature header.
// SECURITY: the private key is copied into a per-call buffer and never logged.
#include "domains/dkim/signer.hpp"

#include <stdexcept>

#include "domains/dkim/message.hpp"

namespace hk::dkim {
namespace {

// The header name and ": " before the value dkim_getsighdr_d() folds, for its first line width.
constexpr std::string_view kSignatureHeader = "DKIM-Signature: ";

// RFC 8463 §3 (ed25519-sha256) and RFC 8301 §3.1 (rsa-sha256 only; rsa-sha1 is obsolete).
dkim_alg_t sign_algorithm(DkimAlgo algo) {
  return algo == DkimAlgo::Ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
}

std::string status_text(DKIM* dkim, DKIM_STAT status) {
  std::string text = dkim_getresultstr(status);
  const char* detail = dkim != nullptr ? dkim_geterror(dkim) : nullptr;
  if (detail != nullptr && *detail != '\0') {
    text += ": ";
    text += detail;
  }
  return text;
}

u_char* bytes(std::string& s) { return reinterpret_cast<u_char*>(s.data()); }

}  // namespace

const char* const kSignedHeaders[] = {
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "reply-to",
    nullptr,
};

namespace {
const char* const kOversignedHeaders[] = {"from", nullptr};
}  // namespace

DkimSigner::DkimSigner() : lib_(dkim_init(nullptr, nullptr)) {
  if (!lib_) {
    throw std::runtime_error("libopendkim: dkim_init failed");
  }
  // libopendkim takes the lists as `char**` and copies them; it does not write through them.
  auto* sign = const_cast<char**>(kSignedHeaders);
  auto* oversign = const_cast<char**>(kOversignedHeaders);
  if (dkim_options(lib_.get(), DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign, sizeof sign) !=
          DKIM_STAT_OK ||
      dkim_options(lib_.get(), DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign, sizeof oversign) !=
          DKIM_STAT_OK) {
    throw std::runtime_error("libopendkim: cannot set the signed header list");
  }
}

std::optional<std::string> DkimSigner::sign(const std::string& message, const DkimKey& key,
                                            std::string& error) const {
  std::string secret = key.pem;
  std::string selector = key.selector;
  std::string domain = key.domain;
  DKIM_STAT status = DKIM_STAT_OK;
  DkimPtr dkim(dkim_sign(lib_.get(), reinterpret_cast<const u_char*>("hikyaku"), nullptr,
                         bytes(secret), bytes(selector), bytes(domain), DKIM_CANON_RELAXED,
                         DKIM_CANON_RELAXED, sign_algorithm(key.algo), -1, &status));
  if (!dkim) {
    error = "dkim_sign: " + status_text(nullptr, status);
    return std::nullopt;
  }
  SplitMessage split = split_message(message);
  for (std::string& field : split.fields) {
    status = dkim_header(dkim.get(), bytes(field), field.size());
    if (status != DKIM_STAT_OK) {
      error = "dkim_header: " + status_text(dkim.get(), status);
      return std::nullopt;
    }
  }
  status = dkim_eoh(dkim.get());
  if (status == DKIM_STAT_OK && !split.body.empty()) {
    status = dkim_body(dkim.get(), bytes(split.body), split.body.size());
  }
  if (status == DKIM_STAT_OK) {
    status = dkim_eom(dkim.get(), nullptr);
  }
  u_char* header = nullptr;
  size_t len = 0;
  if (status == DKIM_STAT_OK) {
    status = dkim_getsighdr_d(dkim.get(), kSignatureHeader.size(), &header, &len);
  }
  if (status != DKIM_STAT_OK) {
    error = "signing failed: " + status_text(dkim.get(), status);
    return std::nullopt;
  }
  // libopendkim may fold with a bare LF; a header in a message on the wire needs CRLF.
  std::string value(reinterpret_cast<const char*>(header), len);
  return std::string(kSignatureHeader) + to_crlf(value) + "\r\n";
}

std::string sign_all(const DkimSigner& signer, const std::string& message,
                     const std::vector<DkimKey>& keys, std::vector<std::string>& errors) {
  std::string headers;
  for (const DkimKey& key : keys) {
    std::string error;
    if (auto header = signer.sign(message, key, error)) {
      headers += *header;
    } else {
      errors.push_back(key.selector + ": " + error);
    }
  }
  return headers;
}

}  // namespace hk::dkim
