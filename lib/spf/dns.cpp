// ResolverDns: the SPF lookups forwarded to dns::Resolver.
#include "lib/spf/dns.hpp"

#include "lib/dns/resolver.hpp"

namespace hk::spf {

namespace asio = boost::asio;

asio::awaitable<dns::Answer<std::string>> ResolverDns::txt(std::string name) {
  co_return co_await resolver_.txt(std::move(name));
}

asio::awaitable<dns::Answer<asio::ip::address>> ResolverDns::a(std::string name) {
  co_return co_await resolver_.a(std::move(name));
}

asio::awaitable<dns::Answer<asio::ip::address>> ResolverDns::aaaa(std::string name) {
  co_return co_await resolver_.aaaa(std::move(name));
}

asio::awaitable<dns::Answer<dns::MxRecord>> ResolverDns::mx(std::string name) {
  co_return co_await resolver_.mx(std::move(name));
}

asio::awaitable<dns::Answer<std::string>> ResolverDns::ptr(asio::ip::address addr) {
  co_return co_await resolver_.ptr(addr);
}

}  // namespace hk::spf
