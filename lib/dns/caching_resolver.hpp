// CachingResolver: a dns::Lookup that answers from a TTL Cache and asks another Lookup (in the
// daemon, the c-ares Resolver) for what the cache does not hold.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <string>

#include "lib/base/clock.hpp"
#include "lib/dns/cache.hpp"
#include "lib/dns/lookup.hpp"

namespace hk::dns {

// Answers from the cache while their TTL lasts, otherwise from `upstream` (and then kept, as far
// as Cache::put allows: negative answers only with an SOA, failures never). Concurrent lookups of
// the same uncached name each ask `upstream`. Same thread rules as `upstream`, which must outlive
// this object, as must `clock`.
class CachingResolver final : public Lookup {
 public:
  CachingResolver(Lookup& upstream, const base::Clock& clock,
                  std::size_t max_entries = Cache::kDefaultMaxEntries);

  boost::asio::awaitable<Answer<MxRecord>> mx(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address>> a(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address>> aaaa(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> ptr(boost::asio::ip::address addr) override;
  boost::asio::awaitable<Answer<TlsaRecord>> tlsa(std::string name) override;

  Cache& cache() { return cache_; }

 private:
  Lookup& upstream_;
  const base::Clock& clock_;
  Cache cache_;
};

}  // namespace hk::dns
