// Connection: one client's TCP socket, upgraded in place to TLS by STARTTLS or at accept (port
// 465). Plain connections hold no TLS state and no read buffer of their own, so that idle
// connections stay cheap (the idle-connection benchmark counts every byte here).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace hk::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Connection {
 public:
  explicit Connection(tcp::socket sock);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // Waits for input and returns what arrived; empty with `ec` set on EOF, error or close().
  // The returned view is valid until the next call on any connection of this thread.
  asio::awaitable<std::string_view> read_some(boost::system::error_code& ec);
  asio::awaitable<boost::system::error_code> write(std::string_view data);
  // Performs the server side of a TLS handshake over the socket (STARTTLS or implicit TLS).
  // `ctx` is kept alive for the life of the connection, so a certificate reload never pulls it
  // away.
  asio::awaitable<boost::system::error_code> start_tls(std::shared_ptr<asio::ssl::context> ctx);
  // Best-effort, non-blocking write of a last reply (used by the timeout watchdog), then close.
  void abort(std::string_view last_words);
  void close();

  bool tls() const { return tls_ != nullptr; }
  std::string tls_version();  // "TLSv1.3"; empty when plain
  std::string tls_cipher();
  std::string sni();  // the name the client asked for, if any
  const asio::ip::address& remote_address() const { return remote_; }
  asio::any_io_executor executor() { return sock_.get_executor(); }

 private:
  using TlsStream = asio::ssl::stream<tcp::socket>;
  tcp::socket sock_;
  std::unique_ptr<TlsStream> tls_;
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<char[]> tls_buf_;  // TLS records are decrypted here; allocated only under TLS
  asio::ip::address remote_;
};

}  // namespace hk::server
