// The DNS lookups an SPF evaluation needs (RFC 7208 §4.4, §5), as an interface: production
// forwards to dns::Resolver, the tests serve zone data from memory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <string>

#include "lib/dns/answer.hpp"
#include "lib/dns/error.hpp"

namespace hk::dns {
class Resolver;
}

namespace hk::spf {

// Answers carry dns::Error codes: NxDomain and NoData are "void" answers (§4.6.4); the others
// (ServFail, Timeout, ...) make the evaluation a temperror.
class Dns {
 public:
  virtual ~Dns() = default;
  // One string per TXT record, its character-strings joined (§3.3).
  virtual boost::asio::awaitable<dns::Answer<std::string>> txt(std::string name) = 0;
  virtual boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> a(std::string name) = 0;
  virtual boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> aaaa(std::string name) = 0;
  virtual boost::asio::awaitable<dns::Answer<dns::MxRecord>> mx(std::string name) = 0;
  virtual boost::asio::awaitable<dns::Answer<std::string>> ptr(boost::asio::ip::address) = 0;
};

// Dns over the c-ares resolver; `resolver` must outlive it.
class ResolverDns final : public Dns {
 public:
  explicit ResolverDns(dns::Resolver& resolver) : resolver_(resolver) {}
  boost::asio::awaitable<dns::Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> a(std::string name) override;
  boost::asio::awaitable<dns::Answer<boost::asio::ip::address>> aaaa(std::string name) override;
  boost::asio::awaitable<dns::Answer<dns::MxRecord>> mx(std::string name) override;
  boost::asio::awaitable<dns::Answer<std::string>> ptr(boost::asio::ip::address addr) override;

 private:
  dns::Resolver& resolver_;
};

}  // namespace hk::spf
