// Lookup: the one DNS lookup interface of hikyaku. Resolver (c-ares) and CachingResolver implement
// it; SPF, DKIM verification, MTA-STS, delivery and hikyaku-util take a Lookup&, so the daemon can
// hand all of them the same cache, and tests can serve zone data from memory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <string>

#include "lib/dns/answer.hpp"

namespace hk::dns {

// Every lookup ends with an Answer, never an exception for what DNS does: `ec` holds a dns::Error
// (NxDomain and NoData are the negative answers of RFC 2308 §2; the others are failures) and `ttl`
// says how long the answer may be kept (see Answer). Names are absolute, with or without the
// trailing dot. An implementation is used from the coroutines of one io_context's thread.
class Lookup {
 public:
  Lookup() = default;
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;
  virtual ~Lookup() = default;

  virtual boost::asio::awaitable<Answer<MxRecord>> mx(std::string name) = 0;
  virtual boost::asio::awaitable<Answer<boost::asio::ip::address>> a(std::string name) = 0;
  virtual boost::asio::awaitable<Answer<boost::asio::ip::address>> aaaa(std::string name) = 0;
  // One string per TXT record: the record's character-strings joined (RFC 7208 §3.3).
  virtual boost::asio::awaitable<Answer<std::string>> txt(std::string name) = 0;
  // The names at reverse_name(addr) (RFC 1035 §3.5, RFC 3596 §2.5).
  virtual boost::asio::awaitable<Answer<std::string>> ptr(boost::asio::ip::address addr) = 0;
  // The TLSA records at `name`, e.g. "_25._tcp.mx.example.com" (RFC 6698 §3, RFC 7672 §2.2).
  // DANE uses them only when Answer::authenticated says the resolver validated them.
  virtual boost::asio::awaitable<Answer<TlsaRecord>> tlsa(std::string name) = 0;
};

}  // namespace hk::dns
