// AuthCache: a short-lived, bounded memory of successful AUTH checks, so that a client that logs
// in for every message (a web app sending one message per connection) pays scrypt once per
// cache_ttl instead of once per login.
//
// SECURITY. What it keeps, and why it is safe to keep:
// - Only successes. An entry is HMAC-SHA256(K, login, password) for credentials that scrypt has
//   just verified, with the time it expires; never the password, never anything of a failure.
//   A wrong password is therefore always a miss and runs the full scrypt, answers after the same
//   time as before and counts as a failed login for the AbuseGuard (its delays and bans), so
//   guessing gains nothing. Caching failures would also let anyone fill the cache with garbage
//   and push real users out; as it is, only someone who knows a password can add an entry.
// - Keyed by a random per-process key K (RAND_bytes, never written anywhere). Without the key an
//   entry (a leaked heap page, a core dump missing the key) is a random 32-byte string that tells
//   nothing and cannot be tested against guesses; entries are not comparable across processes or
//   restarts; no precomputed table applies. An attacker who can read all of the process's memory
//   gets K and the entries, and so can test guesses at HMAC speed instead of scrypt speed, but
//   only for the users who logged in within the last cache_ttl — and such an attacker can
//   already read those passwords from the AUTH buffers and TLS keys as they come in, and the
//   users file's hashes besides. Expired and dropped entries are wiped (OPENSSL_cleanse).
// - Tied to one Domains snapshot: find() and remember() with another snapshot (a reload of any
//   file under domains/: a password changed, a user removed) empty it first, so a change takes
//   effect for cached logins exactly when it does for everyone else (the next reload poll).
// - A hit is faster than a miss, but only correct credentials can hit, which the 235 reply says
//   anyway; a wrong password for a known user and any password for an unknown one still cost
//   the same. Tags are compared with CRYPTO_memcmp.
//
// Not thread-safe: the daemon uses it from its one I/O thread only (before and after the scrypt
// it hands to the worker pool).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hk::domains {

class Domains;

class AuthCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Draws the key; throws DomainsError when OpenSSL has no randomness.
  AuthCache();
  ~AuthCache();
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;

  // A ttl of 0 or a size of 0 turns the cache off. Any change empties it (entries keep the
  // expiry they were given, and the eviction order relies on one ttl for all).
  void configure(std::chrono::seconds ttl, size_t max_entries);
  bool enabled() const { return ttl_.count() > 0 && max_entries_ > 0; }

  // The canonical "user@domain" when these credentials were verified against `snapshot` less than
  // ttl ago; nullopt otherwise (then run the real check). A hit does not extend the entry's life.
  std::optional<std::string> find(const std::shared_ptr<const Domains>& snapshot,
                                  std::string_view username, std::string_view password,
                                  TimePoint now);
  // Records a success of snapshot->authenticate(username, password) (only a success).
  void remember(const std::shared_ptr<const Domains>& snapshot, std::string_view username,
                std::string_view password, TimePoint now);

  size_t size() const { return entries_.size(); }

 private:
  using Tag = std::array<unsigned char, 32>;  // HMAC-SHA256
  struct TagHash {
    size_t operator()(const Tag& t) const noexcept;
  };
  struct TagEqual {
    bool operator()(const Tag& a, const Tag& b) const noexcept;
  };
  struct Entry {
    Tag tag;
    TimePoint expires;
  };
  using Order = std::list<Entry>;  // oldest first: with one ttl, also the first to expire

  Tag tag_of(std::string_view login, std::string_view password) const;
  // Empties the cache when `snapshot` is not the one its entries were verified against.
  void adopt(const std::shared_ptr<const Domains>& snapshot);
  void drop_expired(TimePoint now);
  void erase(Order::iterator it);
  void clear();

  std::array<unsigned char, 32> key_{};
  std::chrono::seconds ttl_{0};
  size_t max_entries_ = 0;
  // Holding it keeps its address from being reused by a later snapshot, so that comparing
  // pointers is a sound test of "the same user database".
  std::shared_ptr<const Domains> snapshot_;
  Order order_;
  std::unordered_map<Tag, Order::iterator, TagHash, TagEqual> entries_;
};

}  // namespace hk::domains
