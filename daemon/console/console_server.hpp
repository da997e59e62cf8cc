// ConsoleServer: the web console's HTTP/1.1 server on Boost.Beast. One port serves HTTP and
// HTTPS (a first byte 0x16 is a TLS handshake), keep-alive, server-sent events, and the gate of
// security.hpp before any handler of the Router runs.
//
// SECURITY: whoever reaches the port can connect. Requests are bounded (header 16 KiB, body
// 1 MiB, a timeout for each request and for each write), and so are connections (in all and per
// client address). A client that is not on loopback must use TLS and the operator's password
// (HTTP Basic, user "admin", checked with scrypt on the worker pool; failures are reported to
// the daemon's AbuseGuard through `Hooks`, which delays the 401 and bans the address like failed
// SMTP AUTH). The Host check (DNS rebinding) and the CSRF rule apply to every client. Every
// response carries the default security header fields unless its handler set its own.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/console/http.hpp"

namespace hk::console {

class ConsoleServer {
 public:
  // What the console asks of the daemon. Every hook runs on the I/O thread; each may be empty.
  struct Hooks {
    // The TLS context for a new HTTPS connection (the daemon's CertStore, so that a reload of the
    // certificates applies to the next connection); null when there is no certificate.
    std::function<std::shared_ptr<boost::asio::ssl::context>()> tls;
    // Whether the address is banned after failed logins (the daemon's AbuseGuard).
    std::function<bool(const boost::asio::ip::address&)> banned;
    // Records a failed login and returns how long to hold the 401.
    std::function<std::chrono::milliseconds(const boost::asio::ip::address&)> auth_failed;
  };

  // What a reload of hikyaku.toml may change ([console], hostname, [auth]).
  struct Settings {
    std::filesystem::path password_file;  // absolute; empty = no remote access
    // Host names accepted besides localhost, 127.0.0.1, [::1] and the address connected to:
    // the daemon's hostname, [console] hostnames and the listen addresses.
    std::vector<std::string> hostnames;
    std::chrono::seconds auth_cache_ttl{300};  // successful password checks remembered
    size_t auth_cache_size = 100;
  };

  struct Limits {
    size_t max_header = 16 * 1024;
    size_t max_body = 1024 * 1024;
    // How long one request may take to arrive (counted from the end of the previous response
    // on a kept-alive connection), and the bound on writing a response or an event.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
    size_t max_connections = 256;
    size_t max_connections_per_address = 32;
    // Server-sent event streams get a comment line this often, so that proxies and NATs keep
    // them open and a client that went away is noticed.
    std::chrono::steady_clock::duration ping_interval = std::chrono::seconds(15);
  };

  struct Address {
    std::string host;
    uint16_t port = 0;  // 0: a free port
  };

  // Binds every address (throws std::runtime_error naming the address when it cannot). The
  // router is kept for the server's life; scrypt runs on `pool`.
  ConsoleServer(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool,
                const std::vector<Address>& listen, Router router, Hooks hooks, Settings settings,
                Limits limits);
  ConsoleServer(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool,
                const std::vector<Address>& listen, Router router, Hooks hooks, Settings settings)
      : ConsoleServer(std::move(ex), pool, listen, std::move(router), std::move(hooks),
                      std::move(settings), Limits{}) {}
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // Applies to the next request.
  void configure(Settings settings);

  std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;
  // The per-process CSRF token (also in every Call).
  const std::string& csrf_token() const;

  // Starts accepting on every address; each connection is its own coroutine on the executor.
  void start();
  // Stops accepting and ends every connection: an idle one at once, one in a request after its
  // response, an event stream at once (its handler is cancelled and its writes fail).
  void close();
  size_t open_connections() const;

  // What the accept loops and connections share; kept alive by them (console_server.cpp).
  struct Shared;

 private:
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace hk::console
