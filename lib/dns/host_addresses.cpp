// host_addresses(): a host name to the addresses to try, through any dns::Lookup.
#include "lib/dns/host_addresses.hpp"

namespace hk::dns {

namespace asio = boost::asio;

asio::awaitable<HostAddresses> host_addresses(Lookup& dns, std::string host, AddressChoice choice) {
  HostAddresses out;
  boost::system::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(host, ec);
  if (!ec) {
    if ((literal.is_v6() && !choice.v6) || (literal.is_v4() && !choice.v4)) {
      out.error = std::string("an ") + (literal.is_v6() ? "IPv6" : "IPv4") +
                  " address, but [delivery] ip_version rules that family out";
    } else {
      out.addrs.push_back(literal);
    }
    co_return out;
  }
  std::vector<asio::ip::address> v4;
  std::vector<asio::ip::address> v6;
  std::string errors;
  if (choice.v6) {
    Answer<asio::ip::address> answer = co_await dns.aaaa(host);
    v6.assign(answer.records.begin(), answer.records.end());
    if (answer.ec) {
      errors = "AAAA: " + answer.ec.message();
    }
  }
  if (choice.v4) {
    Answer<asio::ip::address> answer = co_await dns.a(host);
    v4.assign(answer.records.begin(), answer.records.end());
    if (answer.ec) {
      errors += (errors.empty() ? "" : ", ") + std::string("A: ") + answer.ec.message();
    }
  }
  std::vector<asio::ip::address>& first = choice.v4_first ? v4 : v6;
  std::vector<asio::ip::address>& second = choice.v4_first ? v6 : v4;
  first.insert(first.end(), second.begin(), second.end());
  out.addrs = std::move(first);
  if (out.addrs.empty()) {
    out.error = errors.empty() ? "no address" : errors;
  }
  co_return out;
}

}  // namespace hk::dns
