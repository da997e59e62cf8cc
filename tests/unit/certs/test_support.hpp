// Test support for hk_certs: real in-process TLS handshakes over a socketpair, reporting what
// certificate the server presented. (Scratch directories: tests/support/temp_dir.hpp.)
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>
#include <vector>

namespace hk::certs::test {

struct ClientOptions {
  std::string sni;      // empty: no SNI extension
  int min_version = 0;  // 0: OpenSSL's default
  int max_version = 0;
};

// What the client saw; `*_error` are empty on success.
struct Seen {
  std::string client_error;
  std::string server_error;
  std::vector<std::string> names;  // the presented leaf certificate's names
  std::string serial;              // hex
  int chain_length = 0;            // certificates the server sent, leaf included
  int version = 0;                 // TLS1_2_VERSION, ...
  bool ticket = false;             // the session got a ticket during the handshake (TLS 1.2)
  bool ok() const { return client_error.empty() && server_error.empty(); }
};

// A client and a server stream joined by a socketpair; every step runs the io_context for a
// bounded time, so that a stuck handshake fails the test instead of hanging it.
class TlsPair {
 public:
  TlsPair(std::shared_ptr<boost::asio::ssl::context> server_ctx, const ClientOptions& opt);
  ~TlsPair();
  TlsPair(const TlsPair&) = delete;
  TlsPair& operator=(const TlsPair&) = delete;

  Seen handshake();
  // Sends `text` from the client and returns what the server read.
  std::string client_to_server(const std::string& text);

 private:
  using Stream = boost::asio::ssl::stream<boost::asio::local::stream_protocol::socket>;

  boost::asio::io_context io_;
  std::shared_ptr<boost::asio::ssl::context> server_ctx_;
  boost::asio::ssl::context client_ctx_;
  std::unique_ptr<Stream> server_;
  std::unique_ptr<Stream> client_;
};

// One handshake with a fresh pair.
Seen handshake(std::shared_ptr<boost::asio::ssl::context> server_ctx, const ClientOptions& opt);

}  // namespace hk::certs::test
