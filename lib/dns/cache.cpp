// Cache: TTL expiry, RFC 2308 negative caching and LRU eviction.
#include "lib/dns/cache.hpp"

#include <algorithm>
#include <chrono>

#include "lib/base/ascii.hpp"
#include "lib/dns/error.hpp"

namespace hk::dns {

namespace {

// Names compare without case (RFC 4343 §3) and without the root's trailing dot.
std::string make_key(RecordType type, std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  auto t = static_cast<std::uint16_t>(type);
  std::string key;
  key.reserve(name.size() + 3);
  key += static_cast<char>(t >> 8);
  key += static_cast<char>(t & 0xFF);
  key += ':';
  for (char c : name) {
    key += base::to_lower(c);
  }
  return key;
}

}  // namespace

Cache::Cache(std::size_t max_entries) : max_entries_(max_entries) {}

void Cache::clear() {
  index_.clear();
  lru_.clear();
}

void Cache::store(RecordType type, std::string_view name, Stored answer,
                  const boost::system::error_code& ec, std::uint32_t ttl, TimePoint now) {
  bool negative = ec == Error::NxDomain || ec == Error::NoData;
  if ((ec && !negative) || ttl == 0 || max_entries_ == 0) {
    return;
  }
  ttl = std::min(ttl, negative ? kMaxNegativeTtl : kMaxTtl);
  std::string key = make_key(type, name);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, std::move(answer), now, now + std::chrono::seconds(ttl)});
  index_.emplace(std::move(key), lru_.begin());
  while (lru_.size() > max_entries_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

const Cache::Stored* Cache::find(RecordType type, std::string_view name, TimePoint now,
                                 std::uint32_t& remaining) {
  auto it = index_.find(make_key(type, name));
  if (it == index_.end()) {
    return nullptr;
  }
  Entry& e = *it->second;
  // A clock set back before the entry was stored cannot say how old it is: drop it.
  if (now >= e.expires || now < e.stored_at) {
    lru_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  remaining =
      static_cast<std::uint32_t>(std::chrono::ceil<std::chrono::seconds>(e.expires - now).count());
  lru_.splice(lru_.begin(), lru_, it->second);
  return &e.answer;
}

}  // namespace hk::dns
