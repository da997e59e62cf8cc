// Accept loop and connection limits.
#include "daemon/server/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "daemon/server/server_metrics.hpp"
#include "lib/base/listen.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace hk::server {

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

tcp::endpoint resolve_endpoint(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    throw std::runtime_error("listen address " + host + " is not an IP address");
  }
  return {addr, port};
}

}  // namespace

Listener::Listener(asio::any_io_executor ex, const std::string& host, uint16_t port, Port kind,
                   Deps deps, ConnectionCounts& counts)
    : acceptor_(ex), kind_(kind), deps_(deps), counts_(counts) {
  tcp::endpoint ep = resolve_endpoint(host, port);
  boost::system::error_code ec = base::open_listener(acceptor_, ep);
  if (ec) {
    throw std::runtime_error(std::string("cannot listen on ") + port_name(kind) + " " +
                             ep.address().to_string() + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
}

std::string Listener::local_address() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  std::string a = ep.address().to_string();
  if (ep.address().is_v6()) {
    a = "[" + a + "]";
  }
  return a + ":" + std::to_string(ep.port());
}

void Listener::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void Listener::sweep() {
  for (auto it = counts_.per_ip.begin(); it != counts_.per_ip.end();) {
    it = it->second == 0 ? counts_.per_ip.erase(it) : std::next(it);
  }
}

asio::awaitable<void> Listener::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      // EMFILE and friends: log, breathe, keep accepting.
      base::log_warn() << "listener " << port_name(kind_)
                       << " accept error=" << base::log_quote(ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(kTuple);
      continue;
    }
    // The configuration in force now: a reload applies from the next connection on.
    const config::Config& cfg = current_config(deps_);
    const auto& limits = cfg.limits;
    Connection conn(std::move(sock));
    asio::ip::address ip = conn.remote_address();
    deps_.metrics->connections_on(kind_).inc();
    if (counts_.total >= limits.max_connections) {
      deps_.metrics->rejected_connections.inc();
      conn.abort("421 4.3.2 " + cfg.hostname + " Too many connections, try later\r\n");
      continue;
    }
    size_t& mine = counts_.per_ip[ip];
    if (mine >= limits.max_connections_per_ip) {
      deps_.metrics->rejected_connections_per_ip.inc();
      conn.abort("421 4.7.0 " + cfg.hostname + " Too many connections from your address\r\n");
      continue;
    }
    ++mine;
    ++counts_.total;
    if (counts_.per_ip.size() > 2 * counts_.total + 64) {
      sweep();  // keeps the map bounded by the live connections
    }
    ConnectionSlot slot(&counts_.total, &mine);
    asio::co_spawn(
        acceptor_.get_executor(),
        serve(std::make_unique<Connection>(std::move(conn)), deps_, kind_, std::move(slot)),
        [metrics = deps_.metrics, ip](std::exception_ptr e) {
          if (!e) {
            return;
          }
          // A session must never take the daemon down: log what escaped, go on.
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            base::log_error() << "session client=" << ip.to_string()
                              << " result=internal-error error=" << base::log_quote(ex.what());
          } catch (...) {
            base::log_error() << "session client=" << ip.to_string() << " result=internal-error";
          }
          metrics->session_errors.inc();
        });
  }
}

}  // namespace hk::server
