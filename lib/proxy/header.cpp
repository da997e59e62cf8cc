// PROXY protocol v1 and v2 headers, after "The PROXY protocol, Versions 1 & 2" (HAProxy
// Technologies, doc/proxy-protocol.txt; "spec §" below). Every check refuses; nothing is repaired.
#include "lib/proxy/header.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace hk::proxy {
namespace {

// v2 version/command octet (spec §2.2): the version in the high nibble, the command in the low.
constexpr unsigned kVersion2 = 0x2;
constexpr unsigned kCommandLocal = 0x0;
constexpr unsigned kCommandProxy = 0x1;
// v2 family/protocol octet: the address family in the high nibble, the transport in the low.
constexpr unsigned kFamilyInet = 0x1;
constexpr unsigned kFamilyInet6 = 0x2;
constexpr unsigned kTransportStream = 0x1;
// The address blocks of AF_INET and AF_INET6 (spec §2.2): source, destination, two ports.
constexpr size_t kInetBlock = 4 + 4 + 2 + 2;
constexpr size_t kInet6Block = 16 + 16 + 2 + 2;

Parsed invalid(std::string_view why) {
  Parsed p;
  p.status = Status::Invalid;
  p.error = why;
  return p;
}

Parsed done(size_t size, Header h) {
  Parsed p;
  p.status = Status::Done;
  p.size = size;
  p.header = std::move(h);
  return p;
}

// True when `input` and `sig` agree on their common length.
bool agrees(std::string_view input, std::string_view sig) {
  size_t n = std::min(input.size(), sig.size());
  return input.substr(0, n) == sig.substr(0, n);
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// A v1 port: decimal 0..65535 (spec §2.1), without sign, spaces or leading zeros.
std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) {
    return std::nullopt;
  }
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

// A v1 address in the family TCP4 or TCP6 names: inet_pton's strict forms (dotted quad with no
// leading zeros; RFC 4291 §2.2 text for IPv6).
std::optional<Address> parse_address(std::string_view s, bool v6) {
  if (s.empty() || s.size() > 45) {  // INET6_ADDRSTRLEN - 1
    return std::nullopt;
  }
  std::string text(s);
  Address a;
  a.v6 = v6;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes.data()) != 1) {
    return std::nullopt;
  }
  return a;
}

// Splits "a b c" at single spaces into exactly `count` fields; an empty field (two spaces, a
// leading or trailing one) or a field too many fails.
bool split(std::string_view s, std::string_view* out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    size_t sp = s.find(' ');
    bool last = i + 1 == count;
    if (last != (sp == std::string_view::npos)) {
      return false;
    }
    out[i] = s.substr(0, sp);
    if (out[i].empty()) {
      return false;
    }
    s = last ? std::string_view{} : s.substr(sp + 1);
  }
  return true;
}

// Spec §2.1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF, or
// "PROXY UNKNOWN" followed by anything up to CRLF, which the receiver ignores.
Parsed parse_v1(std::string_view input) {
  std::string_view window = input.substr(0, kMaxV1Size);
  size_t end = window.find_first_of("\r\n");
  if (end == std::string_view::npos) {
    if (input.size() >= kMaxV1Size) {
      return invalid("v1 line longer than 107 octets");
    }
    return printable(input) ? Parsed{} : invalid("v1 line holds a control character");
  }
  if (window[end] == '\n') {
    return invalid("v1 line ends in a bare LF");
  }
  if (end + 1 >= kMaxV1Size) {
    return invalid("v1 line longer than 107 octets");
  }
  if (end + 1 == input.size()) {
    return Parsed{};  // the LF is still to come
  }
  if (input[end + 1] != '\n') {
    return invalid("v1 line holds a bare CR");
  }
  std::string_view line = input.substr(0, end);
  if (!printable(line)) {
    return invalid("v1 line holds a control character");
  }
  std::string_view rest = line.substr(kV1Signature.size());
  Header h;
  h.version = 1;
  if (rest == "UNKNOWN" || rest.substr(0, 8) == "UNKNOWN ") {
    return done(end + 2, h);
  }
  std::string_view f[5];
  if (!split(rest, f, 5)) {
    return invalid("v1 line does not have five fields");
  }
  bool v6 = false;
  if (f[0] == "TCP6") {
    v6 = true;
  } else if (f[0] != "TCP4") {
    return invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN");
  }
  std::optional<Address> src = parse_address(f[1], v6);
  std::optional<Address> dst = parse_address(f[2], v6);
  if (!src || !dst) {
    return invalid("v1 address is not valid for its protocol");
  }
  std::optional<uint16_t> sport = parse_port(f[3]);
  std::optional<uint16_t> dport = parse_port(f[4]);
  if (!sport || !dport) {
    return invalid("v1 port is not a number from 0 to 65535");
  }
  src->port = *sport;
  dst->port = *dport;
  h.source = src;
  h.destination = dst;
  return done(end + 2, h);
}

uint8_t octet(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

uint16_t be16(std::string_view s, size_t i) {
  return static_cast<uint16_t>(octet(s, i) << 8 | octet(s, i + 1));
}

// Spec §2.2: the signature, version/command, family/protocol, a 16-bit length of what follows,
// then the address block and TLVs (skipped: nothing here needs them).
Parsed parse_v2(std::string_view input) {
  if (input.size() < kV2FixedSize) {
    return Parsed{};
  }
  unsigned version = octet(input, 12) >> 4;
  unsigned command = octet(input, 12) & 0x0f;
  unsigned family = octet(input, 13) >> 4;
  unsigned transport = octet(input, 13) & 0x0f;
  size_t size = kV2FixedSize + be16(input, 14);
  if (version != kVersion2) {
    return invalid("v2 version is not 2");
  }
  if (command != kCommandLocal && command != kCommandProxy) {
    return invalid("v2 command is neither LOCAL nor PROXY");
  }
  Header h;
  h.version = 2;
  h.local = command == kCommandLocal;
  // LOCAL: the proxy speaks for itself (a health check); the receiver uses the socket's
  // addresses and skips the block, whatever family it names (spec §2.2).
  if (!h.local) {
    // The receiver may refuse families it does not handle: a mail server needs the client's
    // IP address, so AF_UNSPEC, AF_UNIX and datagram transports are refused.
    if ((family != kFamilyInet && family != kFamilyInet6) || transport != kTransportStream) {
      return invalid("v2 PROXY is not TCP over IPv4 or IPv6");
    }
    size_t block = family == kFamilyInet ? kInetBlock : kInet6Block;
    if (size - kV2FixedSize < block) {
      return invalid("v2 length is shorter than its address block");
    }
  }
  if (input.size() < size) {
    return Parsed{};
  }
  if (!h.local) {
    bool v6 = family == kFamilyInet6;
    size_t alen = v6 ? 16 : 4;
    Address src, dst;
    src.v6 = dst.v6 = v6;
    std::memcpy(src.bytes.data(), input.data() + kV2FixedSize, alen);
    std::memcpy(dst.bytes.data(), input.data() + kV2FixedSize + alen, alen);
    src.port = be16(input, kV2FixedSize + 2 * alen);
    dst.port = be16(input, kV2FixedSize + 2 * alen + 2);
    h.source = src;
    h.destination = dst;
  }
  return done(size, h);
}

}  // namespace

std::string to_string(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

Parsed parse(std::string_view input) {
  if (input.empty()) {
    return Parsed{};
  }
  if (input[0] == 'P') {
    if (!agrees(input, kV1Signature)) {
      return invalid("no PROXY signature");
    }
    return input.size() < kV1Signature.size() ? Parsed{} : parse_v1(input);
  }
  if (!agrees(input, kV2Signature)) {
    return invalid("no PROXY signature");
  }
  return parse_v2(input);
}

Sniff sniff(std::string_view start) {
  for (std::string_view sig : {kV1Signature, kV2Signature}) {
    if (agrees(start, sig)) {
      return start.size() >= sig.size() ? Sniff::Yes : Sniff::Maybe;
    }
  }
  return Sniff::No;
}

}  // namespace hk::proxy
