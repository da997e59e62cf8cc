// ConnectionCache: parking, liveness checks on reuse, and the sweep that closes idle sessions.
#include "daemon/delivery/connection_cache.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <utility>

#include "lib/base/log.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;

// Owns the client until its QUIT is done; takes nothing from the cache, which may be gone by
// then.
asio::awaitable<void> quit_client(std::unique_ptr<SmtpClient> client) { co_await client->quit(); }

}  // namespace

struct ConnectionCache::SweepHandler {
  ConnectionCache* cache;
  std::weak_ptr<char> life;

  void operator()(const boost::system::error_code& ec) const {
    // Aborted: re-armed or destroyed. A handler already queued when the destructor ran comes
    // with success, hence the check of `life` before touching the cache.
    if (ec || life.expired()) {
      return;
    }
    cache->armed_.reset();
    cache->sweep();
  }
};

ConnectionCache::ConnectionCache(asio::any_io_executor ex, ConnectionLimits limits)
    : ex_(ex), limits_(limits), timer_(ex), life_(std::make_shared<char>()) {}

ConnectionCache::~ConnectionCache() {
  life_.reset();
  timer_.cancel();
  // The parked clients close their sockets as they are destroyed; no QUIT at shutdown.
}

bool ConnectionCache::expired(const CachedClient& c, CachedClient::Clock::time_point now) const {
  return now - c.parked >= limits_.idle || now - c.opened >= limits_.lifetime;
}

std::optional<CachedClient> ConnectionCache::take(const ConnectionKey& key) {
  auto now = CachedClient::Clock::now();
  // Newest first: the session parked last is the least likely to have been timed out by the
  // server (RFC 5321 §4.5.3.2.7 gives servers 5 minutes; many use far less).
  for (auto it = parked_.end(); it != parked_.begin();) {
    --it;
    if (!(it->key == key)) {
      continue;
    }
    CachedClient c = std::move(*it);
    it = parked_.erase(it);
    if (expired(c, now)) {
      retire(std::move(c));
      continue;
    }
    if (!c.client->idle_usable()) {
      // The server closed the connection or said something (a 421, RFC 5321 §3.8) while it was
      // parked: nothing to say to it any more.
      base::log_debug() << "delivery peer=" << c.client->peer()
                        << " result=cached-connection-closed";
      continue;
    }
    arm();
    return c;
  }
  arm();
  return std::nullopt;
}

void ConnectionCache::put(CachedClient c) {
  auto now = CachedClient::Clock::now();
  c.parked = now;
  if (!c.client->reusable() || c.transactions >= limits_.max_transactions ||
      now - c.opened >= limits_.lifetime || limits_.max_parked == 0) {
    retire(std::move(c));
    return;
  }
  if (parked_.size() >= limits_.max_parked) {
    CachedClient oldest = std::move(parked_.front());
    parked_.pop_front();
    retire(std::move(oldest));
  }
  parked_.push_back(std::move(c));
  arm();
}

void ConnectionCache::retire(CachedClient c) {
  if (!c.client) {
    return;
  }
  asio::co_spawn(ex_, quit_client(std::move(c.client)), asio::detached);
}

void ConnectionCache::sweep() {
  auto now = CachedClient::Clock::now();
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (expired(*it, now)) {
      CachedClient c = std::move(*it);
      it = parked_.erase(it);
      retire(std::move(c));
    } else {
      ++it;
    }
  }
  arm();
}

// One timer for the whole cache, set for the first moment a parked session passes its idle or
// lifetime limit.
void ConnectionCache::arm() {
  if (parked_.empty()) {
    if (armed_) {
      armed_.reset();
      timer_.cancel();
    }
    return;
  }
  auto next = CachedClient::Clock::time_point::max();
  for (const CachedClient& c : parked_) {
    next = std::min({next, c.parked + limits_.idle, c.opened + limits_.lifetime});
  }
  if (armed_ && *armed_ <= next) {
    return;  // the sweep coming first re-arms for the rest
  }
  armed_ = next;
  timer_.expires_at(next);
  timer_.async_wait(SweepHandler{this, life_});
}

}  // namespace hk::delivery
