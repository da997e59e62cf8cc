// Endpoint: the metrics page served over HTTP/1.1 by Boost.Beast — GET and HEAD /metrics and
// nothing else, keep-alive, concurrent scrapes, every request bounded in size and time.
//
// SECURITY: whoever reaches the port can connect, so requests are bounded (header size, no body,
// a read timeout) and so is the number of open connections; nothing but the page is served and
// no request changes anything. The page tells about the traffic: bind it to loopback.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace hk::metrics {

class Endpoint {
 public:
  // Builds the page for one scrape (Registry::render, after refreshing sampled gauges). Called
  // on the endpoint's executor, once per GET or HEAD of /metrics.
  using Render = std::function<std::string()>;

  struct Options {
    // How long a request may take to arrive, counted from the end of the previous response on
    // a kept-alive connection; also the bound on writing a response. Prometheus scrapes every
    // 15 s to 1 min by default, so a kept-alive connection idle longer is closed and reopened.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
    // Connections open at once; more are closed as soon as they are accepted. A few scrapers
    // (Prometheus pairs, an operator's curl) each hold one.
    std::size_t max_connections = 32;
  };

  // Binds `host`:`port` (0: a free port) and listens; throws std::runtime_error, naming the
  // address, when it cannot.
  Endpoint(boost::asio::any_io_executor ex, const std::string& host, uint16_t port, Render render,
           Options options);
  Endpoint(boost::asio::any_io_executor ex, const std::string& host, uint16_t port, Render render)
      : Endpoint(std::move(ex), host, port, std::move(render), Options{}) {}
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Accepts until close(); each connection is its own coroutine on the same executor.
  boost::asio::awaitable<void> run();
  // Stops accepting. Connections already open end at their next timeout or when their client
  // closes them.
  void close();

  // What connections share with the endpoint and keep alive while they last (endpoint.cpp).
  struct Shared;

 private:
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace hk::metrics
