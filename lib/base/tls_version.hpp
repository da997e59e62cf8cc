// MinTls: the oldest TLS version the server accepts. The configuration reads it once
// (tls.min_version) and the TLS contexts in hk_certs apply it; neither interprets text again.
#pragma once

namespace hk::base {

// TLS 1.0 and 1.1 are deprecated (RFC 8996 §2-3), so 1.2 is the oldest choice.
enum class MinTls { V1_2, V1_3 };

}  // namespace hk::base
