// Cache: DNS answers kept until their TTL runs out (RFC 1035 §3.2.1), negative answers (NXDOMAIN,
// NODATA) as RFC 2308 §5 says, at most max_entries of them with the least recently used dropped
// first. Keyed by record type and lower-cased name. Time is passed in, so tests need no sleeps.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "lib/base/clock.hpp"
#include "lib/dns/answer.hpp"

namespace hk::dns {

class Cache {
 public:
  using TimePoint = base::TimePoint;

  static constexpr std::size_t kDefaultMaxEntries = 10000;
  // Answers are kept at most a day whatever their TTL says, so that a mistaken huge TTL heals.
  static constexpr std::uint32_t kMaxTtl = 86400;
  // RFC 2308 §5: negative answers are kept at most a few hours; three, as BIND does.
  static constexpr std::uint32_t kMaxNegativeTtl = 10800;

  explicit Cache(std::size_t max_entries = kDefaultMaxEntries);

  // Keeps `answer` if it may be cached: a positive answer, NXDOMAIN or NODATA, with a TTL above
  // 0. Every other failure (SERVFAIL, timeout, ...) is left out. Replaces an older entry.
  template <class T>
  void put(RecordType type, std::string_view name, const Answer<T>& answer, TimePoint now) {
    store(type, name, Stored(answer), answer.ec, answer.ttl, now);
  }

  // The kept answer with the TTL it has left (rounded up to a second), or nullopt when there is
  // none, it has expired, or it holds records of another C++ type than T.
  template <class T>
  std::optional<Answer<T>> get(RecordType type, std::string_view name, TimePoint now) {
    std::uint32_t remaining = 0;
    const Stored* stored = find(type, name, now, remaining);
    const Answer<T>* hit = stored != nullptr ? std::get_if<Answer<T>>(stored) : nullptr;
    if (hit == nullptr) {
      return std::nullopt;
    }
    Answer<T> copy = *hit;
    copy.ttl = remaining;
    return copy;
  }

  std::size_t size() const { return lru_.size(); }
  void clear();

 private:
  using Stored = std::variant<Answer<MxRecord>, Answer<boost::asio::ip::address>,
                              Answer<std::string>, Answer<TlsaRecord>>;
  struct Entry {
    std::string key;
    Stored answer;
    TimePoint stored_at;
    TimePoint expires;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void store(RecordType type, std::string_view name, Stored answer,
             const boost::system::error_code& ec, std::uint32_t ttl, TimePoint now);
  const Stored* find(RecordType type, std::string_view name, TimePoint now,
                     std::uint32_t& remaining);

  std::size_t max_entries_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
};

}  // namespace hk::dns
