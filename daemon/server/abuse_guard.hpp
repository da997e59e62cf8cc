// AbuseGuard: what the daemon remembers about clients across connections — failed AUTH attempts
// per address and per user name, bans, connection rates and message rates (Postfix's anvil is the
// model) — in memory, bounded in size, with time from a base::Clock so that tests need no sleeps.
//
// SECURITY: every table is capped (kMaxEntries); when one is full the entry touched longest ago
// is forgotten, so a client spraying addresses or user names costs memory only up to the cap and
// at worst makes the guard forget its oldest (least active) suspects.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/base/clock.hpp"
#include "lib/config/config.hpp"

namespace hk::server {

// A count of events in the last `window`, kept as two fixed buckets (the current one and the
// one before) and weighted by how much of the previous bucket still lies inside the window: a
// sliding window in O(1) memory, accurate to within the previous bucket's events. The clock may
// step backwards (system time); the counter then keeps its buckets as they are.
struct SlidingCount {
  base::TimePoint start{};  // beginning of the current bucket
  uint32_t previous = 0;
  uint32_t current = 0;

  void add(base::TimePoint now, std::chrono::seconds window);
  double value(base::TimePoint now, std::chrono::seconds window);
};

// A map with a fixed capacity that forgets its least recently used entry when full.
template <class V>
class LruTable {
 public:
  explicit LruTable(size_t capacity) : capacity_(capacity) {}

  V* find(const std::string& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }
  // The entry for `key`, made when missing, and marked as the most recently used.
  V& get(const std::string& key) {
    auto it = map_.find(key);
    if (it != map_.end()) {
      order_.splice(order_.begin(), order_, it->second.pos);
      return it->second.value;
    }
    if (map_.size() >= capacity_ && !order_.empty()) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(key);
    return map_.emplace(key, Node{V{}, order_.begin()}).first->second.value;
  }
  size_t size() const { return map_.size(); }

 private:
  struct Node {
    V value;
    std::list<std::string>::iterator pos;
  };
  size_t capacity_;
  std::unordered_map<std::string, Node> map_;
  std::list<std::string> order_;  // most recently used first
};

class AbuseGuard {
 public:
  // Entries per table (addresses, user names, message senders): about 200 bytes each.
  static constexpr size_t kMaxEntries = 50'000;
  // The longest delay put on a failed AUTH's 535 reply.
  static constexpr std::chrono::milliseconds kMaxAuthDelay{8000};

  explicit AbuseGuard(const base::Clock& clock, size_t max_entries = kMaxEntries);
  AbuseGuard(const AbuseGuard&) = delete;
  AbuseGuard& operator=(const AbuseGuard&) = delete;

  enum class Refusal { None, AuthBan, ConnectionRate };
  // A connection from a client outside trusted_networks: counts it towards the connection rate
  // and says whether it must be refused (an AUTH ban first, then the rate).
  Refusal admit_stranger(const boost::asio::ip::address& client,
                         const config::Config::Limits& limits);
  // Whether the address is banned after too many failed AUTH attempts.
  bool auth_banned(const boost::asio::ip::address& client);
  // Records a failed AUTH attempt and returns the delay to put on its 535 reply: growing with
  // the address's failures past max_auth_failures and with the user name's past
  // auth_failures_per_user. A ban starts when the address reaches auth_failures_per_ip, unless
  // `trusted` (a webmail on a trusted network speaks for many users: it is slowed, never banned).
  std::chrono::milliseconds auth_failed(const boost::asio::ip::address& client,
                                        std::string_view user, bool trusted,
                                        const config::Config::Limits& limits);
  // Counts one message for `sender` ("user:NAME" or "ip:ADDRESS") unless that would exceed
  // `per_hour` in the last hour; 0 = no limit. False = refuse the message.
  bool take_message(const std::string& sender, size_t per_hour);

  // Addresses and user names as they are tracked: an IPv6 client by its /64, which one host
  // usually holds whole (RFC 6177), so that hopping within it does not reset the counts.
  static std::string address_key(const boost::asio::ip::address& client);
  size_t tracked_for_test() const { return addresses_.size() + users_.size() + senders_.size(); }

 private:
  struct AddressState {
    SlidingCount auth_failures;
    SlidingCount connections;
    base::TimePoint banned_until{};
  };

  const base::Clock& clock_;
  LruTable<AddressState> addresses_;
  LruTable<SlidingCount> users_;
  LruTable<SlidingCount> senders_;
};

}  // namespace hk::server
