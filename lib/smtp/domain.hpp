// Domains in envelopes: RFC 5321 §4.1.2 Domain (LDH labels), U-labels converted to lower-case
// A-labels (RFC 6531 §3.3, IDNA via libidn2), and address literals (RFC 5321 §4.1.3).
#pragma once

#include <string>
#include <string_view>

namespace hk::smtp {

// A domain in lower case with U-labels converted to A-labels ("bücher.example" →
// "xn--bcher-kva.example"); "" when it is not a valid domain: empty or over-long labels
// (RFC 1035 §2.3.4: 63), over 255 octets (RFC 5321 §4.5.3.1.2), characters outside LDH, a
// leading or trailing hyphen, invalid UTF-8 or IDNA. Address literals and a trailing dot are
// refused: callers holding DNS names strip the root dot first.
std::string normalize_domain(std::string_view domain);

// The text between '[' and ']' of an address literal: "1.2.3.4" → "[1.2.3.4]",
// "IPv6:2001:DB8::1" → "[IPv6:2001:db8::1]"; "" when invalid. General-address-literal is
// refused: no Standardized-tag other than IPv6 has been registered (RFC 5321 §4.1.3).
std::string normalize_address_literal(std::string_view inner);

}  // namespace hk::smtp
