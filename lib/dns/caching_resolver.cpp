// CachingResolver: look in the Cache, else ask the upstream Lookup and keep what it says.
#include "lib/dns/caching_resolver.hpp"

#include "lib/dns/wire.hpp"

namespace hk::dns {

namespace asio = boost::asio;

CachingResolver::CachingResolver(Lookup& upstream, const base::Clock& clock,
                                 std::size_t max_entries)
    : upstream_(upstream), clock_(clock), cache_(max_entries) {}

asio::awaitable<Answer<MxRecord>> CachingResolver::mx(std::string name) {
  if (auto hit = cache_.get<MxRecord>(RecordType::Mx, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<MxRecord> answer = co_await upstream_.mx(name);
  cache_.put(RecordType::Mx, name, answer, clock_.now());
  co_return answer;
}

asio::awaitable<Answer<asio::ip::address>> CachingResolver::a(std::string name) {
  if (auto hit = cache_.get<asio::ip::address>(RecordType::A, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<asio::ip::address> answer = co_await upstream_.a(name);
  cache_.put(RecordType::A, name, answer, clock_.now());
  co_return answer;
}

asio::awaitable<Answer<asio::ip::address>> CachingResolver::aaaa(std::string name) {
  if (auto hit = cache_.get<asio::ip::address>(RecordType::Aaaa, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<asio::ip::address> answer = co_await upstream_.aaaa(name);
  cache_.put(RecordType::Aaaa, name, answer, clock_.now());
  co_return answer;
}

asio::awaitable<Answer<std::string>> CachingResolver::txt(std::string name) {
  if (auto hit = cache_.get<std::string>(RecordType::Txt, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<std::string> answer = co_await upstream_.txt(name);
  cache_.put(RecordType::Txt, name, answer, clock_.now());
  co_return answer;
}

asio::awaitable<Answer<std::string>> CachingResolver::ptr(asio::ip::address addr) {
  std::string name = reverse_name(addr);
  if (auto hit = cache_.get<std::string>(RecordType::Ptr, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<std::string> answer = co_await upstream_.ptr(addr);
  cache_.put(RecordType::Ptr, name, answer, clock_.now());
  co_return answer;
}

asio::awaitable<Answer<TlsaRecord>> CachingResolver::tlsa(std::string name) {
  if (auto hit = cache_.get<TlsaRecord>(RecordType::Tlsa, name, clock_.now())) {
    co_return std::move(*hit);
  }
  Answer<TlsaRecord> answer = co_await upstream_.tlsa(name);
  cache_.put(RecordType::Tlsa, name, answer, clock_.now());
  co_return answer;
}

}  // namespace hk::dns
