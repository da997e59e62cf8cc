// The TLS-Required header field (RFC 8689 §3): whether a message's sender asked that recipient
// TLS policies (MTA-STS, DANE) not stop its delivery. Pure: the message text in, a flag out.
#pragma once

#include <string_view>

namespace hk::smtp {

// True when the header section of `message` (CRLF or LF line ends; it ends at the first empty
// line) holds a TLS-Required field whose value is "No" (RFC 8689 §3: the only value defined; the
// field name and value are case-insensitive, the value may be folded and surrounded by white
// space). A message with several such fields counts as asking only if every one says No.
bool tls_required_no(std::string_view message);

}  // namespace hk::smtp
