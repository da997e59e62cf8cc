// Connection: one client's TCP socket, upgraded in place to TLS by STARTTLS or at accept (port
// 465); the Transport the daemon's sessions run over. Plain connections hold no TLS state and no
// read buffer of their own, so that idle connections stay cheap (the idle-connection benchmark
// counts every byte here). Behind a load balancer, the PROXY protocol header read first names the
// client, and its address replaces the socket's for everything the session does.
//
// SECURITY: remote_address() decides trust (trusted_networks), SPF and limits. It comes from a
// PROXY header only when the listener asked for one (the peer is in proxy_networks); any other
// connection that starts with a PROXY signature is refused, never taken as SMTP.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "daemon/server/transport.hpp"
#include "lib/metrics/registry.hpp"
#include "lib/proxy/header.hpp"

namespace hk::server {

using tcp = asio::ip::tcp;

// What read_proxy_header() found: the header, or why there is none (a fixed text for the log).
struct ProxyRead {
  std::optional<proxy::Header> header;
  std::string_view error;
};

class Connection final : public Transport {
 public:
  explicit Connection(tcp::socket sock);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection() override;

  // The returned view is valid until the next read on any connection of this thread: plain
  // reads share one buffer per thread (see connection.cpp).
  asio::awaitable<std::string_view> read_some(boost::system::error_code& ec) override;
  asio::awaitable<boost::system::error_code> write(std::string_view data) override;
  asio::awaitable<boost::system::error_code> start_tls(
      std::shared_ptr<asio::ssl::context> ctx) override;
  void abort(std::string_view last_words) override;
  void close() override;
  void cancel() override;

  bool tls() const override { return tls_ != nullptr; }
  std::string tls_version() override;
  std::string tls_cipher() override;
  std::string sni();  // the name the client asked for, if any

  // Reads the PROXY protocol header (v1 or v2) that a load balancer sends before anything else,
  // within `limit`, and takes its source address as remote_address() (a v2 LOCAL or v1 UNKNOWN
  // header keeps the socket's). Octets after the header stay unread in the socket, for the
  // session or the TLS handshake of port 465: the header is peeked at, then exactly its length
  // is read. Call it first, before any other read.
  asio::awaitable<ProxyRead> read_proxy_header(std::chrono::steady_clock::duration limit);
  // For a connection that must not carry a PROXY header (its peer is not in proxy_networks): if
  // the stream starts with a PROXY signature, the first read answers 421 and ends the connection
  // instead of passing the header on as an SMTP command line.
  // `refused` counts such refusals and must outlive the connection.
  void refuse_proxy_header(metrics::Counter& refused) {
    sniffing_ = true;
    refused_ = &refused;
  }
  const asio::ip::address& remote_address() const override { return remote_; }
  asio::any_io_executor executor() override { return sock_.get_executor(); }

 private:
  using TlsStream = asio::ssl::stream<tcp::socket>;
  asio::awaitable<ProxyRead> read_header();
  bool drain(size_t n);
  bool sniff_passes(std::string_view data);
  void refuse_header();

  tcp::socket sock_;
  std::unique_ptr<TlsStream> tls_;
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<char[]> tls_buf_;  // TLS records are decrypted here; allocated only under TLS
  asio::ip::address remote_;
  // The first octets, until they show whether the stream starts with a PROXY signature.
  std::array<char, proxy::kV2Signature.size()> sniffed_{};
  uint8_t sniffed_size_ = 0;
  bool sniffing_ = false;
  metrics::Counter* refused_ = nullptr;
};

}  // namespace hk::server
