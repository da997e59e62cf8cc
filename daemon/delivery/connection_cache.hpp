// ConnectionCache: outgoing SMTP sessions parked between transactions, so that the next message
// for the same server skips connect, EHLO, STARTTLS and AUTH (Postfix's connection cache). Every
// parked session is bounded in idle time, age and use, and the cache in size.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "lib/smtp_client/smtp_client.hpp"

namespace hk::delivery {

// What makes two sessions interchangeable: the same peer, set up with the same TLS expectations
// (mode and the name the certificate was checked against) and logged in as the same user. Mail
// for another domain whose MX resolves to the same address may use the session; mail that
// expects a verified certificate never rides on one set up opportunistically.
struct ConnectionKey {
  boost::asio::ip::tcp::endpoint peer;
  TlsMode tls = TlsMode::Opportunistic;
  std::string tls_name;
  std::string username, password;

  bool operator==(const ConnectionKey&) const = default;
};

// A connected client with what the limits need to know about it.
struct CachedClient {
  using Clock = std::chrono::steady_clock;

  std::unique_ptr<SmtpClient> client;
  ConnectionKey key;
  Clock::time_point opened;   // when connect() succeeded
  Clock::time_point parked;   // when it was last handed back
  unsigned transactions = 0;  // send() calls made on it
};

struct ConnectionLimits {
  std::chrono::steady_clock::duration idle{std::chrono::seconds(5)};
  std::chrono::steady_clock::duration lifetime{std::chrono::seconds(300)};
  unsigned max_transactions = 100;
  std::size_t max_parked = 64;
};

// Single-threaded: every call on the executor's thread. Sessions closed for a limit get a QUIT
// in a coroutine of their own, which owns the client and never touches the cache; those still
// parked when the cache is destroyed are simply closed.
class ConnectionCache {
 public:
  ConnectionCache(boost::asio::any_io_executor ex, ConnectionLimits limits);
  ~ConnectionCache();
  ConnectionCache(const ConnectionCache&) = delete;
  ConnectionCache& operator=(const ConnectionCache&) = delete;

  // A parked session for `key` that is still usable, taken out of the cache; nullopt when there
  // is none. Sessions found closed by the server, or past a limit, are dropped on the way.
  std::optional<CachedClient> take(const ConnectionKey& key);
  // Parks `c` after a transaction, or closes it with QUIT when it is not reusable or has reached
  // a limit. With the cache full, the session parked longest gets the QUIT instead.
  void put(CachedClient c);
  // Sends QUIT on `c` in the background.
  void retire(CachedClient c);

  std::size_t size() const { return parked_.size(); }
  // A reload ([delivery] max_messages_per_connection): parked sessions are judged by `limits`
  // from their next take() or put() on.
  void set_limits(const ConnectionLimits& limits) { limits_ = limits; }

 private:
  struct SweepHandler;
  bool expired(const CachedClient& c, CachedClient::Clock::time_point now) const;
  void sweep();
  void arm();

  boost::asio::any_io_executor ex_;
  ConnectionLimits limits_;
  std::list<CachedClient> parked_;  // oldest parked first
  boost::asio::steady_timer timer_;
  std::optional<CachedClient::Clock::time_point> armed_;  // when the pending sweep fires
  // Lives as long as the cache: a timer handler that runs after the destructor (already queued
  // when the timer was cancelled) sees it expired and does nothing.
  std::shared_ptr<char> life_;
};

}  // namespace hk::delivery
