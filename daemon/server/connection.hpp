// Connection: one client's TCP socket, upgraded in place to TLS by STARTTLS or at accept (port
// 465); the Transport the daemon's sessions run over. Plain connections hold no TLS state and no
// read buffer of their own, so that idle connections stay cheap (the idle-connection benchmark
// counts every byte here).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "daemon/server/transport.hpp"

namespace hk::server {

using tcp = asio::ip::tcp;

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
  const asio::ip::address& remote_address() const override { return remote_; }
  asio::any_io_executor executor() override { return sock_.get_executor(); }

 private:
  using TlsStream = asio::ssl::stream<tcp::socket>;
  tcp::socket sock_;
  std::unique_ptr<TlsStream> tls_;
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<char[]> tls_buf_;  // TLS records are decrypted here; allocated only under TLS
  asio::ip::address remote_;
};

}  // namespace hk::server
