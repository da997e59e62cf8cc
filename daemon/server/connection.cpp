// Connection: plain or TLS byte stream of one SMTP client.
#include "daemon/server/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace hk::server {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadSize = 16 * 1024;

// Plain reads land in one buffer shared by every session of the I/O thread: a read is a
// readiness wait followed by a synchronous non-blocking read_some, so no two reads are ever in
// flight into it, and an idle connection owns no buffer at all.
char* shared_read_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[kReadSize]);
  return buf.get();
}

}  // namespace

Connection::Connection(tcp::socket sock) : sock_(std::move(sock)) {
  boost::system::error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) {
    remote_ = ep.address();
    if (remote_.is_v6() && remote_.to_v6().is_v4_mapped()) {
      remote_ = asio::ip::make_address_v4(asio::ip::v4_mapped, remote_.to_v6());
    }
  }
  sock_.non_blocking(true, ec);
  sock_.set_option(tcp::no_delay(true), ec);
}

Connection::~Connection() = default;

asio::awaitable<std::string_view> Connection::read_some(boost::system::error_code& ec) {
  if (tls_) {
    auto [e, n] = co_await tls_->async_read_some(asio::buffer(tls_buf_.get(), kReadSize), kTuple);
    ec = e;
    co_return e ? std::string_view{} : std::string_view(tls_buf_.get(), n);
  }
  for (;;) {
    char* buf = shared_read_buffer();
    size_t n = sock_.read_some(asio::buffer(buf, kReadSize), ec);
    if (!ec) {
      co_return std::string_view(buf, n);
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      co_return std::string_view{};
    }
    auto [e] = co_await sock_.async_wait(tcp::socket::wait_read, kTuple);
    if (e) {
      ec = e;
      co_return std::string_view{};
    }
  }
}

asio::awaitable<boost::system::error_code> Connection::write(std::string_view data) {
  if (tls_) {
    auto [e, n] = co_await asio::async_write(*tls_, asio::buffer(data), kTuple);
    co_return e;
  }
  auto [e, n] = co_await asio::async_write(sock_, asio::buffer(data), kTuple);
  co_return e;
}

asio::awaitable<boost::system::error_code> Connection::start_tls(
    std::shared_ptr<asio::ssl::context> ctx) {
  ctx_ = std::move(ctx);
  tls_ = std::make_unique<TlsStream>(std::move(sock_), *ctx_);
  tls_buf_.reset(new char[kReadSize]);
  auto [e] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return e;
}

void Connection::abort(std::string_view last_words) {
  boost::system::error_code ec;
  if (!tls_ && !last_words.empty()) {
    sock_.write_some(asio::buffer(last_words), ec);  // non-blocking: best effort only
  }
  close();
}

void Connection::cancel() {
  boost::system::error_code ec;
  (tls_ ? tls_->next_layer() : sock_).cancel(ec);
}

void Connection::close() {
  boost::system::error_code ec;
  tcp::socket& s = tls_ ? tls_->next_layer() : sock_;
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

std::string Connection::tls_version() { return tls_ ? SSL_get_version(tls_->native_handle()) : ""; }

std::string Connection::tls_cipher() {
  return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : "";
}

std::string Connection::sni() {
  if (!tls_) {
    return "";
  }
  const char* name = SSL_get_servername(tls_->native_handle(), TLSEXT_NAMETYPE_host_name);
  return name ? name : "";
}

}  // namespace hk::server
