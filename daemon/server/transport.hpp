// Transport: the byte stream an SMTP session talks over, plain or TLS. Connection (a client's TCP
// socket) is the daemon's one implementation; tests run whole sessions over an in-memory one.
// The session pays one virtual call per read, write or handshake, never one per byte.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace hk::server {

namespace asio = boost::asio;

class Transport {
 public:
  virtual ~Transport() = default;

  // Waits for input and returns what arrived; empty with `ec` set on EOF, error or close().
  // The returned view is valid until the next read on any transport of this thread.
  virtual asio::awaitable<std::string_view> read_some(boost::system::error_code& ec) = 0;
  virtual asio::awaitable<boost::system::error_code> write(std::string_view data) = 0;
  // Performs the server side of a TLS handshake (STARTTLS or implicit TLS). `ctx` is kept alive
  // for the life of the transport, so that a certificate reload never pulls it away.
  virtual asio::awaitable<boost::system::error_code> start_tls(
      std::shared_ptr<asio::ssl::context> ctx) = 0;
  // Best-effort, non-blocking write of a last reply (the session timeout's 421), then close().
  virtual void abort(std::string_view last_words) = 0;
  // Ends the stream: a read in progress completes with an error.
  virtual void close() = 0;
  // Ends a read in progress with an error but keeps the stream open for a last reply (the
  // shutdown's 421); without that ability, the same as close().
  virtual void cancel() { close(); }

  virtual bool tls() const = 0;
  virtual std::string tls_version() = 0;  // "TLSv1.3"; empty when plain
  virtual std::string tls_cipher() = 0;
  virtual const asio::ip::address& remote_address() const = 0;
  virtual asio::any_io_executor executor() = 0;

 protected:
  Transport() = default;
  Transport(const Transport&) = default;
  Transport& operator=(const Transport&) = default;
};

}  // namespace hk::server
