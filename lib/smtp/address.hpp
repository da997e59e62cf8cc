// Envelope addresses: the reverse-path and forward-path syntax of RFC 5321 §4.1.2 with the UTF-8
// extensions of RFC 6531 §3.3, and domain normalisation (lower case, IDNA A-labels).
// SECURITY: every address a client sends passes through here before any relay or delivery
// decision; anything the grammar does not allow (trailing dots, stray quotes, bare addresses
// without <>) is refused rather than repaired, so that later string comparisons are exact.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/smtp/domain.hpp"  // normalize_domain
#include "lib/smtp/parsed.hpp"

namespace hk::smtp {

struct Address {
  std::string local;     // unquoted: <"john doe"@x> gives `john doe`; case kept (RFC 5321 §2.4)
  std::string domain;    // lower case A-labels ("xn--bcher-kva.example"), or "[1.2.3.4]" literal
  bool literal = false;  // domain is an address literal "[...]" (RFC 5321 §4.1.3)
  bool utf8 = false;     // the local part or the domain as sent had non-ASCII (needs SMTPUTF8)

  // The null reverse-path <> (RFC 5321 §4.5.5).
  bool is_null() const { return local.empty() && domain.empty(); }
  // local@domain with the local part quoted when it is not a Dot-string; "postmaster" for
  // <postmaster>; "" for the null path. Parsing "<" + str() + ">" gives this address back.
  std::string str() const;

  // The same mailbox: `utf8` describes how it was sent, not what it is.
  friend bool operator==(const Address& a, const Address& b) {
    return a.local == b.local && a.domain == b.domain && a.literal == b.literal;
  }
};

enum class PathKind {
  Reverse,  // MAIL FROM: <> allowed; errors use 5.1.7 (bad sender's address syntax, RFC 3463)
  Forward,  // RCPT TO: <postmaster> allowed (RFC 5321 §4.1.1.3); errors use 5.1.3
};

using PathResult = Parsed<Address>;

// Parses exactly one path "<...>"; anything before or after it is an error. A source route
// (<@a,@b:user@dom>, RFC 5321 §4.1.2 / Appendix C) is checked and dropped. Non-ASCII is allowed
// (valid UTF-8 only) and flagged in Address::utf8: whether SMTPUTF8 was declared is the
// caller's check (params.hpp does it). Limits: local part 64, domain 255, path 256 octets
// (RFC 5321 §4.5.3.1.1-3).
PathResult parse_path(std::string_view text, PathKind kind);

// Like parse_path but stops after the closing '>' and stores its offset + 1 in `used`, for
// "<path> SP parameters".
PathResult parse_path_prefix(std::string_view text, PathKind kind, size_t& used);

}  // namespace hk::smtp
