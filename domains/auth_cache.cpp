// The cache of successful AUTH checks; see auth_cache.hpp for what it keeps and why.
#include "domains/auth_cache.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstring>
#include <iterator>

#include "domains/domains.hpp"
#include "domains/domains_error.hpp"
#include "lib/base/openssl.hpp"

namespace hk::domains {

AuthCache::AuthCache() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    throw DomainsError("no random key for the AUTH cache: " + base::openssl_error());
  }
}

AuthCache::~AuthCache() {
  clear();
  OPENSSL_cleanse(key_.data(), key_.size());
}

size_t AuthCache::TagHash::operator()(const Tag& t) const noexcept {
  // The tag is an HMAC output: any 8 of its bytes are already uniformly distributed.
  size_t h = 0;
  std::memcpy(&h, t.data(), sizeof h);
  return h;
}

bool AuthCache::TagEqual::operator()(const Tag& a, const Tag& b) const noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void AuthCache::configure(std::chrono::seconds ttl, size_t max_entries) {
  if (ttl == ttl_ && max_entries == max_entries_) {
    return;
  }
  clear();
  ttl_ = ttl;
  max_entries_ = max_entries;
}

AuthCache::Tag AuthCache::tag_of(std::string_view login, std::string_view password) const {
  // The login's length first, so that no two (login, password) pairs give the same input.
  std::string input;
  input.reserve(4 + login.size() + password.size());
  const auto n = static_cast<uint32_t>(login.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    input += static_cast<char>((n >> shift) & 0xff);
  }
  input += login;
  input += password;
  Tag tag{};
  unsigned int len = 0;
  const unsigned char* ok =
      HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), tag.data(), &len);
  OPENSSL_cleanse(input.data(), input.size());
  if (ok == nullptr || len != tag.size()) {
    // Cannot happen with SHA-256 short of memory exhaustion; a zero tag is never stored (see
    // remember()), so this can only ever miss.
    ERR_clear_error();
    tag.fill(0);
  }
  return tag;
}

void AuthCache::adopt(const std::shared_ptr<const Domains>& snapshot) {
  if (snapshot.get() != snapshot_.get()) {
    clear();
    snapshot_ = snapshot;
  }
}

void AuthCache::erase(Order::iterator it) {
  entries_.erase(it->tag);
  OPENSSL_cleanse(it->tag.data(), it->tag.size());
  order_.erase(it);
}

void AuthCache::clear() {
  while (!order_.empty()) {
    erase(order_.begin());
  }
  snapshot_.reset();
}

void AuthCache::drop_expired(TimePoint now) {
  while (!order_.empty() && order_.front().expires <= now) {
    erase(order_.begin());
  }
}

std::optional<std::string> AuthCache::find(const std::shared_ptr<const Domains>& snapshot,
                                           std::string_view username, std::string_view password,
                                           TimePoint now) {
  if (!enabled() || snapshot == nullptr) {
    return std::nullopt;
  }
  adopt(snapshot);
  drop_expired(now);
  std::optional<std::string> login = snapshot->login_name(username);
  if (!login || entries_.empty()) {
    return std::nullopt;
  }
  auto it = entries_.find(tag_of(*login, password));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return login;
}

void AuthCache::remember(const std::shared_ptr<const Domains>& snapshot, std::string_view username,
                         std::string_view password, TimePoint now) {
  if (!enabled() || snapshot == nullptr) {
    return;
  }
  std::optional<std::string> login = snapshot->login_name(username);
  if (!login) {
    return;
  }
  adopt(snapshot);
  drop_expired(now);
  const Tag tag = tag_of(*login, password);
  if (tag == Tag{}) {
    return;  // the HMAC failed
  }
  if (auto it = entries_.find(tag); it != entries_.end()) {
    erase(it->second);  // verified again (two sessions at once): keep the later expiry
  }
  while (entries_.size() >= max_entries_) {
    erase(order_.begin());
  }
  order_.push_back(Entry{tag, now + ttl_});
  entries_.emplace(tag, std::prev(order_.end()));
}

}  // namespace hk::domains
