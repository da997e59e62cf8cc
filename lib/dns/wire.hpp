// DNS wire-format helpers that c-ares 1.18 lacks: the TTLs of a raw response (RFC 1035 §4.1),
// which its MX, TXT and PTR parsers do not report, a TLSA parser (RFC 6698 §2.1), and
// reverse-lookup names for PTR queries.
// SECURITY: the input is a response from the network; every read is bounds-checked.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/dns/answer.hpp"

namespace hk::dns {

// The smallest TTL among the answer-section records (every type, so that a CNAME on the way
// counts too). nullopt when the message is malformed or has no answer record.
std::optional<std::uint32_t> answer_ttl(std::span<const unsigned char> msg) noexcept;

// The negative-caching TTL of an NXDOMAIN or NODATA response (RFC 2308 §5): the smaller of the
// TTL and the MINIMUM field of the SOA record in the authority section. nullopt when the message
// is malformed or holds no SOA, in which case the answer must not be cached (RFC 2308 §5).
std::optional<std::uint32_t> negative_ttl(std::span<const unsigned char> msg) noexcept;

// The AD bit of a response's header (RFC 4035 §3.2.3): the resolver validated the answer. False
// for a message too short to have a header.
bool authenticated_data(std::span<const unsigned char> msg) noexcept;

// The TLSA records (class IN, type 52) of the answer section, in the order sent; records of other
// types (the CNAME chain that led to the name) are passed over. nullopt when the message is
// malformed or a TLSA RDATA is shorter than its three one-octet fields (RFC 6698 §2.1).
std::optional<std::vector<TlsaRecord>> tlsa_records(std::span<const unsigned char> msg);

// The name to query for the PTR record of an address: "4.3.2.1.in-addr.arpa" (RFC 1035 §3.5)
// or the 32 reversed nibbles under "ip6.arpa" (RFC 3596 §2.5).
std::string reverse_name(const boost::asio::ip::address& addr);

}  // namespace hk::dns
