// Listener: accepts connections on one address for one Port kind, reads the PROXY protocol header
// of connections from proxy_networks, admits them (total and per-address limits, AUTH bans,
// connection rate) and spawns a session coroutine per connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <optional>
#include <string>

#include "daemon/server/connection.hpp"
#include "daemon/server/session.hpp"

namespace hk::server {

// Live connection counts shared by every listener of the daemon (one I/O thread: no locking).
// Entries of per_ip that drop to zero are swept by the listener; std::map keeps the counters'
// addresses stable for the ConnectionSlots that point at them.
struct ConnectionCounts {
  size_t total = 0;
  std::map<boost::asio::ip::address, size_t> per_ip;
};

class Listener {
 public:
  // Binds and listens at once, so that a port in use fails the start with a clear message.
  Listener(boost::asio::any_io_executor ex, const std::string& host, uint16_t port, Port kind,
           Deps deps, ConnectionCounts& counts);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  boost::asio::awaitable<void> accept_loop();
  void close();
  std::string local_address() const;  // "127.0.0.1:2525", with the real port when bound to 0
  Port kind() const { return kind_; }

 private:
  // Every admission check of a new connection from `client` (the socket's peer, or the address a
  // PROXY header names): a place in the limits, or nothing when the connection was refused — then
  // it has had its 4xx line and is closed, and the refusal is logged and counted.
  std::optional<ConnectionSlot> admit(Connection& conn, const boost::asio::ip::address& client);
  void refuse(Connection& conn, const boost::asio::ip::address& client, const char* reason,
              const char* code, const char* text);
  // A connection from a load balancer: its PROXY header first, then admission and the session.
  boost::asio::awaitable<void> serve_proxied(Connection conn);
  void spawn(boost::asio::awaitable<void> work, const boost::asio::ip::address& peer);
  bool from_proxy(const boost::asio::ip::address& peer) const;
  void sweep();

  boost::asio::ip::tcp::acceptor acceptor_;
  Port kind_;
  Deps deps_;
  ConnectionCounts& counts_;
};

}  // namespace hk::server
