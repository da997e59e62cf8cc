// The PROXY protocol header (HAProxy, "The PROXY protocol", versions 1 and 2): the block a TCP
// load balancer sends first on each connection it forwards, naming the client it accepted.
// Pure: bytes in, the addresses out; the daemon reads the header off the socket (Connection).
//
// SECURITY: the header decides which address the daemon believes the client has (relay rights
// of trusted_networks, SPF, limits, logs). It is read only from the addresses in proxy_networks;
// every malformed form is refused, never guessed at.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hk::proxy {

// v1 is one text line of at most 107 octets, CRLF included (spec §2.1).
inline constexpr size_t kMaxV1Size = 107;
// v2: a 16-octet fixed part (signature, version/command, family/protocol, length)...
inline constexpr size_t kV2FixedSize = 16;
// ...and up to 65535 octets of addresses and TLVs (spec §2.2).
inline constexpr size_t kMaxV2Size = kV2FixedSize + 65535;
// The v2 signature (spec §2.2); it holds a CR LF and "QUIT" so that a server not expecting it
// gives up at once.
inline constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
inline constexpr std::string_view kV1Signature{"PROXY "};

struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network order; the first 4 for IPv4
  uint16_t port = 0;
};
std::string to_string(const Address& a);  // "192.0.2.1", "2001:db8::1" (no port)

struct Header {
  int version = 0;     // 1 or 2
  bool local = false;  // v2 LOCAL: the proxy's own connection (a health check)
  // The client (source) and the address it connected to (destination). Absent for v2 LOCAL and
  // v1 UNKNOWN: the spec (§2.1, §2.2) then has the receiver use the socket's own addresses.
  std::optional<Address> source;
  std::optional<Address> destination;
};

enum class Status {
  Incomplete,  // a proper prefix of a header: every octet of the input belongs to it
  Done,        // a whole header, `size` octets; what follows is the application's
  Invalid,     // not a header, or a malformed one
};

struct Parsed {
  Status status = Status::Incomplete;
  size_t size = 0;  // octets of the header, when Done
  Header header;
  std::string_view error;  // why, when Invalid: a fixed text for the log
};

// Parses a header at the start of `input` (all octets received so far). Incomplete promises that
// the header ends beyond the input, so a reader may take all of it and wait for more; Done says
// exactly where it ended, so that nothing after it is consumed.
Parsed parse(std::string_view input);

enum class Sniff { No, Maybe, Yes };
// Whether a stream that should carry SMTP starts with a PROXY signature: Yes once a whole
// signature ("PROXY " or the v2 one) is there, Maybe while `start` is a proper prefix of one.
Sniff sniff(std::string_view start);

}  // namespace hk::proxy
