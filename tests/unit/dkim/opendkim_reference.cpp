// libopendkim signing, message by message: header fields, end of header, body, end of message.
#include "tests/unit/dkim/opendkim_reference.hpp"

#include <stdexcept>

#include "lib/dkim/message.hpp"
#include "lib/dkim/signer.hpp"

namespace hk::dkim::test {
namespace {

constexpr std::string_view kSignatureHeader = "DKIM-Signature: ";

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

const char* const kOversignedHeaders[] = {"from", nullptr};

}  // namespace

OpendkimSigner::OpendkimSigner(std::time_t fixed_time) : lib_(dkim_init(nullptr, nullptr)) {
  if (!lib_) {
    throw std::runtime_error("libopendkim: dkim_init failed");
  }
  // libopendkim takes the lists as `char**` and copies them; it does not write through them.
  auto* sign = const_cast<char**>(kSignedHeaders);
  auto* oversign = const_cast<char**>(kOversignedHeaders);
  uint64_t when = static_cast<uint64_t>(fixed_time);
  if (dkim_options(lib_.get(), DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign, sizeof sign) !=
          DKIM_STAT_OK ||
      dkim_options(lib_.get(), DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign, sizeof oversign) !=
          DKIM_STAT_OK ||
      (fixed_time != 0 && dkim_options(lib_.get(), DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when,
                                       sizeof when) != DKIM_STAT_OK)) {
    throw std::runtime_error("libopendkim: cannot set the signing options");
  }
}

std::optional<std::string> OpendkimSigner::sign(std::string_view message, const std::string& pem,
                                                const DkimKey& key, std::string& error) const {
  std::string secret = pem;
  std::string selector = key.selector;
  std::string domain = key.domain;
  dkim_alg_t alg = key.algo == DkimAlgo::Ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
  DKIM_STAT status = DKIM_STAT_OK;
  DkimPtr dkim(dkim_sign(lib_.get(), reinterpret_cast<const u_char*>("hikyaku"), nullptr,
                         bytes(secret), bytes(selector), bytes(domain), DKIM_CANON_RELAXED,
                         DKIM_CANON_RELAXED, alg, -1, &status));
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
  std::string value(reinterpret_cast<const char*>(header), len);
  return std::string(kSignatureHeader) + to_crlf(value) + "\r\n";
}

}  // namespace hk::dkim::test
