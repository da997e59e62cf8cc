// The Authentication-Results header field (RFC 8601): writing the one that records our DKIM and
// SPF results on inbound mail, and reading those that arrive with it, so that fields claiming our
// own authserv-id can be removed (RFC 8601 §5).
// SECURITY: the fields read come from the sender; the reader bounds nothing but its input, is
// linear in it, and never throws on malformed text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/dkim/verify.hpp"

namespace hk::dkim {

// The whole field, folded and ending in CRLF:
//   "Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=example.org
//    header.s=sel;\r\n\tspf=pass smtp.mailfrom=a@example.org\r\n"
// One "dkim=" resinfo per result (RFC 8601 §2.7.1) with header.d and header.s when known and the
// detail as a comment; the "spf=" resinfo (§2.7.2) is left out when `spf_result` is empty. When
// there is no result at all the field says "none" (§2.2). Control characters and characters that
// would break the syntax are dropped from every input.
std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom);

// A further result for the field, written after dkim and spf as
// "method=result (comment) ptype.property=value ...": DMARC's (RFC 7489 §11.2), for instance.
// Every part is cleaned as the DKIM and SPF parts are.
struct ResultInfo {
  std::string method;   // "dmarc"
  std::string result;   // "pass", "fail", ...
  std::string comment;  // without the parentheses; left out when empty
  std::vector<std::pair<std::string, std::string>> properties;  // {"header.from", "example.com"}
};
std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom,
                                   const std::vector<ResultInfo>& more);

// One "ptype.property=pvalue" of a result (RFC 8601 §2.2 propspec), e.g. "header.d=example.org".
struct AuthResultsProperty {
  std::string ptype;     // "smtp", "header", "body", "policy", ... as written
  std::string property;  // "mailfrom", "d", ... as written
  std::string value;     // as written, CFWS around it removed; a quoted-string keeps its quotes
  bool operator==(const AuthResultsProperty&) const = default;
};

// One resinfo (RFC 8601 §2.2): "method[/version]=result [reason=...] [properties]".
struct AuthResultsEntry {
  std::string method;          // "dkim", "spf", "dmarc", ... as written
  std::string method_version;  // the digits after "/", or empty
  std::string result;          // "pass", "fail", ... as written
  std::string reason;          // reasonspec's value, unquoted; empty when absent
  std::vector<AuthResultsProperty> properties;
  bool operator==(const AuthResultsEntry&) const = default;
};

struct AuthResultsField {
  std::string authserv_id;                // unquoted (RFC 8601 §2.5), as written otherwise
  std::string version;                    // authres-version digits, or empty (version 1, §2.2)
  std::vector<AuthResultsEntry> results;  // empty for "; none"
};

// Reads an Authentication-Results field value (what follows the colon; a final CRLF is allowed)
// by RFC 8601 §2.2: [CFWS] authserv-id [CFWS version] (";" "none" / 1*resinfo) [CFWS], with CFWS
// (RFC 5322 §3.2.2: folding white space and nested comments) wherever the grammar allows it and
// quoted strings for values. authserv-id, reason and pvalue are RFC 2045 values (token or
// quoted-string), UTF-8 allowed (RFC 6532 §3.2); a pvalue may also be an address or any run of
// printable characters other than ';', '(', ')' and '"' — what real signers put in header.b= and
// smtp.mailfrom=. nullopt when the field is malformed.
std::optional<AuthResultsField> parse_authentication_results(std::string_view field_value);

// The authserv-id of a well-formed field (parse_authentication_results), or nullopt.
std::optional<std::string> parse_authserv_id(std::string_view field_value);

// True when the field's authserv-id equals `authserv_id`, ASCII case-insensitively (RFC 8601
// §2.5: it is usually a domain name). Only the leading [CFWS] authserv-id is read, and what
// follows it must be CFWS, ";" or the end, not a full valid field: a field that claims our
// authserv-id is forged (§5) however malformed its results are, and must be removed, not kept
// because its tail does not parse.
bool claims_authserv_id(std::string_view field_value, std::string_view authserv_id);

}  // namespace hk::dkim
