// MemoryTransport: a Transport over an in-memory byte stream (Boost.Beast's test stream), so that
// a test can drive a whole Session without sockets. TLS is real: OpenSSL runs over the same
// in-memory stream, with the server context the session hands over.
#pragma once

#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <memory>
#include <string>

#include "daemon/server/transport.hpp"

namespace hk::server::test {

using TestStream = boost::beast::test::stream;

class MemoryTransport final : public Transport {
 public:
  // The server's end of a stream pair whose other end is `client`, which the test keeps (the
  // session owns the transport and may end first: the client then reads EOF). `remote` is the
  // address the session believes the client has.
  MemoryTransport(TestStream& client, asio::ip::address remote);

  asio::awaitable<std::string_view> read_some(boost::system::error_code& ec) override;
  asio::awaitable<boost::system::error_code> write(std::string_view data) override;
  asio::awaitable<boost::system::error_code> start_tls(
      std::shared_ptr<asio::ssl::context> ctx) override;
  void abort(std::string_view last_words) override;
  void close() override;

  bool tls() const override { return tls_ != nullptr; }
  std::string tls_version() override;
  std::string tls_cipher() override;
  const asio::ip::address& remote_address() const override { return remote_; }
  asio::any_io_executor executor() override { return server_.get_executor(); }

 private:
  TestStream server_;
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<asio::ssl::stream<TestStream&>> tls_;
  std::array<char, 16 * 1024> buf_{};
  asio::ip::address remote_;
};

}  // namespace hk::server::test
