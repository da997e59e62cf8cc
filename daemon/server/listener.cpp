// Accept loop and connection limits.
#include "daemon/server/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "daemon/server/abuse_guard.hpp"
#include "daemon/server/server_metrics.hpp"
#include "lib/base/listen.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace hk::server {

namespace {

bool is_trusted(const config::Config& cfg, const asio::ip::address& client) {
  for (const auto& net : cfg.trusted_networks) {
    if (net.contains(client)) {
      return true;
    }
  }
  return false;
}

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A load balancer sends its PROXY header at once, before the client may speak (HAProxy writes it
// with the connection); 10 s covers a loaded balancer and bounds what a silent peer holds.
constexpr auto kProxyHeaderTimeout = std::chrono::seconds(10);

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

void Listener::refuse(Connection& conn, const asio::ip::address& client, const char* reason,
                      const char* code, const char* text) {
  base::log_info() << "session client=" << client.to_string()
                   << " result=refused reason=" << reason;
  conn.abort(std::string(code) + " " + current_config(deps_).hostname + " " + text + "\r\n");
}

std::optional<ConnectionSlot> Listener::admit(Connection& conn, const asio::ip::address& client) {
  const auto& limits = current_config(deps_).limits;
  // RFC 5321 §3.8 and §4.2.3: "421 Service not available, closing transmission channel" refuses
  // at the greeting and tells the client to try again later.
  if (counts_.total >= limits.max_connections) {
    deps_.metrics->rejected_connections.inc();
    refuse(conn, client, "connections", "421 4.3.2", "Too many connections, try later");
    return std::nullopt;
  }
  // As Postfix exempts mynetworks: the trusted networks are the operator's own applications,
  // whose concurrency and rates are the operator's choice, and they are never banned.
  const bool trusted = is_trusted(current_config(deps_), client);
  if (!trusted && deps_.abuse != nullptr) {
    switch (deps_.abuse->admit_stranger(client, limits)) {
      case AbuseGuard::Refusal::AuthBan:
        deps_.metrics->rejected_auth_ban.inc();
        refuse(conn, client, "auth-ban", "421 4.7.0", "Too many failed logins, try later");
        return std::nullopt;
      case AbuseGuard::Refusal::ConnectionRate:
        deps_.metrics->rejected_connection_rate.inc();
        refuse(conn, client, "connection-rate", "421 4.7.0", "Too many connections, slow down");
        return std::nullopt;
      case AbuseGuard::Refusal::None:
        break;
    }
  }
  size_t* mine = nullptr;
  if (!trusted) {
    mine = &counts_.per_ip[client];
    if (*mine >= limits.max_connections_per_ip) {
      deps_.metrics->rejected_connections_per_ip.inc();
      refuse(conn, client, "connections-per-ip", "421 4.7.0",
             "Too many connections from your address");
      return std::nullopt;
    }
    ++*mine;
  }
  ++counts_.total;
  if (counts_.per_ip.size() > 2 * counts_.total + 64) {
    sweep();  // keeps the map bounded by the live connections
  }
  return ConnectionSlot(&counts_.total, mine);
}

bool Listener::from_proxy(const asio::ip::address& peer) const {
  for (const auto& net : current_config(deps_).proxy_networks) {
    if (net.contains(peer)) {
      return true;
    }
  }
  return false;
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
    // admit() and the session read the configuration in force now (current_config): a reload
    // applies from the next connection on.
    Connection conn(std::move(sock));
    asio::ip::address ip = conn.remote_address();
    deps_.metrics->connections_on(kind_).inc();
    // Behind a load balancer the client's address is known only once its PROXY header has been
    // read, and the limits are the client's: the header and admission run in the connection's
    // own coroutine, so that a slow balancer never holds up the accept loop.
    if (from_proxy(ip)) {
      spawn(serve_proxied(std::move(conn)), ip);
      continue;
    }
    conn.refuse_proxy_header(deps_.metrics->rejected_proxy_header);
    std::optional<ConnectionSlot> slot = admit(conn, ip);
    if (!slot) {
      continue;
    }
    spawn(serve(std::make_unique<Connection>(std::move(conn)), deps_, kind_, std::move(*slot)), ip);
  }
}

asio::awaitable<void> Listener::serve_proxied(Connection conn) {
  asio::ip::address proxy_ip = conn.remote_address();
  ProxyRead got = co_await conn.read_proxy_header(kProxyHeaderTimeout);
  if (!got.header) {
    deps_.metrics->rejected_proxy_header.inc();
    base::log_warn() << "proxy peer=" << proxy_ip.to_string() << " port=" << port_name(kind_)
                     << " result=refused reason=" << base::log_quote(got.error);
    // The balancer passes this on to its client: a misconfigured balancer shows in its logs.
    conn.abort("421 4.7.0 " + current_config(deps_).hostname +
               " PROXY protocol header required\r\n");
    co_return;
  }
  const proxy::Header& h = *got.header;
  base::log_debug() << "proxy client=" << conn.remote_address().to_string()
                    << " peer=" << proxy_ip.to_string() << " version=" << h.version
                    << (h.local    ? " command=local"
                        : h.source ? ""
                                   : " protocol=unknown");
  std::optional<ConnectionSlot> slot = admit(conn, conn.remote_address());
  if (!slot) {
    co_return;
  }
  co_await serve(std::make_unique<Connection>(std::move(conn)), deps_, kind_, std::move(*slot));
}

void Listener::spawn(asio::awaitable<void> work, const asio::ip::address& peer) {
  asio::co_spawn(acceptor_.get_executor(), std::move(work),
                 [metrics = deps_.metrics, ip = peer](std::exception_ptr e) {
                   // A session must never take the daemon down: log what escaped, go on.
                   if (base::log_internal_error(e, "session client=" + ip.to_string())) {
                     metrics->session_errors.inc();
                   }
                 });
}

}  // namespace hk::server
