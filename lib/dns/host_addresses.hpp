// host_addresses(): the addresses to connect to for a host name (a smart host, an MX target), in
// the order to try them: what delivery and `hikyaku-util test-relay` both resolve through.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <string>
#include <vector>

#include "lib/dns/lookup.hpp"

namespace hk::dns {

// Which families to ask for and which comes first ([delivery] ip_version and prefer).
struct AddressChoice {
  bool v4 = true;
  bool v6 = true;
  bool v4_first = true;
};

struct HostAddresses {
  std::vector<boost::asio::ip::address> addrs;
  // When `addrs` is empty: why, e.g. "AAAA: domain does not exist (NXDOMAIN), A: domain does
  // not exist (NXDOMAIN)".
  std::string error;
};

// An IP literal is its own address (when its family is allowed); a name is looked up through
// `dns` (AAAA and A, as `choice` allows), the preferred family first (RFC 5321 §5.1 leaves the
// order to the sender).
boost::asio::awaitable<HostAddresses> host_addresses(Lookup& dns, std::string host,
                                                     AddressChoice choice);

}  // namespace hk::dns
