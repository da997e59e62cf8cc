// Reading the response to one query into an Answer: c-ares' own parsers for MX, A, AAAA, TXT and
// PTR, wire.hpp for TLSA and the TTLs. Pure functions of the response bytes, apart from the
// Resolver's I/O, so that the fuzz target (tests/fuzz/parsers/dns_response_fuzz.cpp) and the
// tests reach exactly what the Resolver runs.
// SECURITY: the response comes from the network; nothing here trusts its lengths or names.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <span>
#include <string>

#include "lib/dns/answer.hpp"
#include "lib/dns/error.hpp"
#include "lib/dns/wire.hpp"

namespace hk::dns {

// The answer for a query that c-ares ended with `ares_status` (not ARES_SUCCESS); `msg` is the
// response, if any, whose SOA gives NXDOMAIN and NODATA their negative TTL (RFC 2308 §5).
template <class T>
Answer<T> failed_answer(int ares_status, std::span<const unsigned char> msg) {
  Answer<T> a;
  Error e = error_from_ares(ares_status);
  a.ec = e;
  if (e == Error::NxDomain || e == Error::NoData) {
    a.ttl = negative_ttl(msg).value_or(0);
  }
  return a;
}

// Each reads a response that c-ares reported as a success. A response without a record of the
// type asked for is NoData (with its negative TTL); one that c-ares or wire.cpp cannot read is
// BadResponse. The Resolver turns an empty successful answer into NoData as well.
Answer<MxRecord> parse_mx_response(std::span<const unsigned char> msg);
Answer<boost::asio::ip::address> parse_a_response(std::span<const unsigned char> msg);
Answer<boost::asio::ip::address> parse_aaaa_response(std::span<const unsigned char> msg);
// One string per TXT record, its character-strings joined (RFC 7208 §3.3).
Answer<std::string> parse_txt_response(std::span<const unsigned char> msg);
// The PTR targets for `addr`, each once.
Answer<std::string> parse_ptr_response(std::span<const unsigned char> msg,
                                       const boost::asio::ip::address& addr);
Answer<TlsaRecord> parse_tlsa_response(std::span<const unsigned char> msg);

}  // namespace hk::dns
