// CachingResolver: Resolver's lookups through a TTL Cache, with the same methods.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <string>

#include "lib/base/clock.hpp"
#include "lib/dns/cache.hpp"
#include "lib/dns/resolver.hpp"

namespace hk::dns {

// Answers from the cache while their TTL lasts, otherwise from the Resolver (and then kept).
// Concurrent lookups of the same uncached name each ask the Resolver. Same thread rules as
// Resolver; `resolver` and `clock` must outlive this object.
class CachingResolver {
 public:
  CachingResolver(Resolver& resolver, const base::Clock& clock,
                  std::size_t max_entries = Cache::kDefaultMaxEntries);
  CachingResolver(const CachingResolver&) = delete;
  CachingResolver& operator=(const CachingResolver&) = delete;

  boost::asio::awaitable<Answer<MxRecord>> mx(std::string name);
  boost::asio::awaitable<Answer<boost::asio::ip::address>> a(std::string name);
  boost::asio::awaitable<Answer<boost::asio::ip::address>> aaaa(std::string name);
  boost::asio::awaitable<Answer<std::string>> txt(std::string name);
  boost::asio::awaitable<Answer<std::string>> ptr(boost::asio::ip::address addr);

  void cancel_all() { resolver_.cancel_all(); }
  Cache& cache() { return cache_; }

 private:
  Resolver& resolver_;
  const base::Clock& clock_;
  Cache cache_;
};

}  // namespace hk::dns
