// Encodings used around SMTP AUTH: the PLAIN mechanism's message (RFC 4616 §2; its base64 is
// base::base64_decode, canonical form only) and xtext (RFC 3461 §4, used by AUTH=, ENVID= and
// ORCPT=). SECURITY: decoders take client input before authentication; they reject anything not in
// canonical form instead of guessing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hk::smtp {

struct PlainCredentials {
  std::string authzid;  // empty, or equal to authcid (see below)
  std::string authcid;  // the user name
  std::string password;
};

// RFC 4616 §2: message = [authzid] NUL authcid NUL passwd, each part at most 255 octets, no
// NUL inside. Refuses an empty authcid or password, and an authzid that differs from authcid:
// hikyaku has no proxy authorisation, so "log in as A, act as B" is always refused here rather
// than left for each caller to remember (RFC 4616 §2 makes the server decide).
std::optional<PlainCredentials> decode_auth_plain(std::string_view base64);

// xtext = *( xchar / hexchar ), xchar = "!".."~" except "+" and "=", hexchar = "+" 2HEXDIG
// upper case (RFC 3461 §4). std::nullopt when malformed.
std::optional<std::string> xtext_decode(std::string_view xtext);
std::string xtext_encode(std::string_view bytes);

}  // namespace hk::smtp
