// The in-memory transport: the same calls Connection makes, on a Beast test stream.
#include "memory_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <tuple>

namespace hk::server::test {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

MemoryTransport::MemoryTransport(TestStream& client, asio::ip::address remote)
    : server_(client.get_executor()), remote_(std::move(remote)) {
  server_.connect(client);
}

asio::awaitable<std::string_view> MemoryTransport::read_some(boost::system::error_code& ec) {
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(buf_), kTuple);
  } else {
    std::tie(ec, n) = co_await server_.async_read_some(asio::buffer(buf_), kTuple);
  }
  co_return ec ? std::string_view{} : std::string_view(buf_.data(), n);
}

asio::awaitable<boost::system::error_code> MemoryTransport::write(std::string_view data) {
  boost::system::error_code ec;
  size_t n = 0;
  if (tls_) {
    std::tie(ec, n) = co_await asio::async_write(*tls_, asio::buffer(data), kTuple);
  } else {
    std::tie(ec, n) = co_await asio::async_write(server_, asio::buffer(data), kTuple);
  }
  co_return ec;
}

asio::awaitable<boost::system::error_code> MemoryTransport::start_tls(
    std::shared_ptr<asio::ssl::context> ctx) {
  ctx_ = std::move(ctx);
  tls_ = std::make_unique<asio::ssl::stream<TestStream&>>(server_, *ctx_);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return ec;
}

void MemoryTransport::abort(std::string_view last_words) {
  boost::system::error_code ec;
  if (!tls_ && !last_words.empty()) {
    server_.write_some(asio::buffer(last_words), ec);  // completes at once: best effort
  }
  close();
}

void MemoryTransport::close() { server_.close(); }

std::string MemoryTransport::tls_version() {
  return tls_ ? SSL_get_version(tls_->native_handle()) : "";
}

std::string MemoryTransport::tls_cipher() {
  return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : "";
}

}  // namespace hk::server::test
