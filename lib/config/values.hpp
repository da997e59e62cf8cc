// Scalar configuration values written as strings: sizes, durations, endpoints, CIDR networks,
// domain names and ${ENV_VAR} expansion. Pure functions; errors are std::invalid_argument.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hk::config {

// An IP address and port to listen on or to send to. `host` is the canonical text of an IP address
// without brackets ("0.0.0.0", "::1").
struct Endpoint {
  std::string host;
  uint16_t port = 0;

  // "0.0.0.0:25", "[::]:25", "[::1]:2525".
  std::string str() const;
  bool operator==(const Endpoint&) const = default;
};

// An IP network. Addresses given as IPv4-mapped IPv6 (::ffff:10.0.0.0/104) are stored as IPv4.
struct Cidr {
  boost::asio::ip::address net;
  int prefix = 0;

  // True when `addr` is inside the network; an IPv4-mapped IPv6 address (::ffff:1.2.3.4, as a
  // dual-stack socket reports IPv4 clients) matches IPv4 networks.
  bool contains(const boost::asio::ip::address& addr) const;
  // "127.0.0.0/8", "::1/128".
  std::string str() const;
  bool operator==(const Cidr&) const = default;
};

// "50MiB", "10MB", "512KiB", "1GiB", "1024" (bytes), "100B"; binary units are powers of 1024 and
// decimal units powers of 1000. Throws std::invalid_argument naming the bad text.
uint64_t parse_size(std::string_view text);
// The shortest exact spelling parse_size reads back: "50MiB", "10MB", "1000".
std::string format_size(uint64_t bytes);

// "5d", "1h", "30m", "20s", "1h30m", "300" (seconds). Units d, h, m, s in decreasing order, each
// at most once. A result that is not a whole number of seconds ("500ms") is an error.
std::chrono::seconds parse_duration(std::string_view text);
// As parse_duration, also accepting the unit "ms": "500ms", "1s500ms".
std::chrono::milliseconds parse_duration_ms(std::string_view text);
// The spelling parse_duration reads back: "5d", "1h30m", "0s".
std::string format_duration(std::chrono::seconds d);
std::string format_duration(std::chrono::milliseconds d);

// "1.2.3.4:25", "[::1]:25". With a default port, "1.2.3.4", "[::1]" and "::1" are accepted too.
// The host must be an IP address; port 0 is allowed (bind to any free port).
Endpoint parse_endpoint(std::string_view text, std::optional<uint16_t> default_port = {});

// "10.0.0.0/8", "2001:db8::/32"; a bare address is a /32 or /128. Host bits beyond the prefix
// are an error (a typo such as 192.168.1.0/16 must not silently widen the network).
Cidr parse_cidr(std::string_view text);

// RFC 1035 §2.3.1 / RFC 1123 §2.1 host name syntax: letter-digit-hyphen labels of 1..63 octets,
// at most 253 octets in all (RFC 1035 §2.3.4), no trailing dot, and a top label that is not all
// digits (RFC 3696 §2) so an IPv4 address is not taken for a name.
bool is_domain_name(std::string_view name);

// A [capture] deliver pattern: "*@domain" (every address of the domain), "*@*.domain" (of its
// subdomains, not of the domain itself) or "user@domain" (that address); the domain as
// is_domain_name, the user part printable ASCII without '@', spaces or '*'. Lower case expected.
bool is_address_pattern(std::string_view pattern);

// Expands ${NAME} from the environment and $$ to a literal $. Any other $ is an error, so a secret
// holding a $ is never half-expanded by accident. Throws std::invalid_argument; an unset variable
// gives "environment variable NAME is not set".
std::string expand_env(std::string_view text);

}  // namespace hk::config
