// ClientStream: the bytes of one outgoing SMTP connection — TCP connect, a TLS layer added in
// place (STARTTLS or implicit TLS), whole replies read and commands written — with every step
// bounded by a deadline. Failures come back as values with a text naming the peer and the step.
// SECURITY: the peer is an untrusted remote server; a reply's size is bounded by ReplyParser.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dns/answer.hpp"
#include "lib/smtp/client_reply.hpp"
#include "lib/smtp/reply.hpp"
#include "lib/smtp_client/client_error.hpp"

namespace hk::delivery {

class ClientStream {
 public:
  using Duration = std::chrono::steady_clock::duration;

  explicit ClientStream(boost::asio::any_io_executor ex);
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;
  ~ClientStream();

  // `source`, when given, is the local address the socket is bound to first (port chosen by
  // the kernel); it must be of ep's family.
  boost::asio::awaitable<boost::system::error_code> connect(
      const boost::asio::ip::tcp::endpoint& ep, Duration limit,
      const std::optional<boost::asio::ip::address>& source = std::nullopt);
  // Client side of a TLS handshake over the connection. `name` (may be empty) is sent as SNI
  // when it is a host name and set as the name the certificate must match (checked by
  // verified() afterwards; the handshake itself does not fail on a bad certificate).
  // With `tlsa` (usable records, RFC 7672 §3.1), the certificate must match one of them instead
  // (OpenSSL's DANE: `name` is the TLSA base domain and the name DANE-TA chains must match;
  // DANE-EE ignores names and dates, RFC 7672 §3.1.1).
  boost::asio::awaitable<boost::system::error_code> handshake(
      boost::asio::ssl::context& ctx, const std::string& name, Duration limit,
      const std::vector<dns::TlsaRecord>* tlsa = nullptr);
  // One complete reply; std::nullopt when the connection failed, timed out or the peer sent
  // something that is not a reply (then error() says so, naming `what`, e.g. "MAIL reply").
  boost::asio::awaitable<std::optional<smtp::Reply>> read_reply(Duration limit,
                                                                std::string_view what);
  boost::asio::awaitable<bool> write(std::string_view data, Duration limit, std::string_view what);

  // Input received but not yet read as a reply (RFC 3207 §4.2: none may follow a 220 to STARTTLS).
  bool has_buffered_input() const { return !in_.empty(); }
  // Open, and nothing received since the last reply: no byte waiting in our buffers, in TLS's or
  // on the socket (a non-blocking peek; data there is an unsolicited reply, EOF a close).
  bool quiet();
  void close();
  bool is_open() const { return sock_.is_open(); }

  bool tls() const { return tls_ != nullptr; }
  std::string tls_version() const;
  std::string tls_cipher() const;
  // After handshake(): whether the peer's chain verified against the context's roots and matched
  // `name` (with TLSA records: matched one of them); otherwise `why` gets the reason.
  bool verified(std::string& why) const;

  const std::string& peer() const { return peer_; }  // "192.0.2.1:25", "[2001:db8::1]:25"
  const std::string& error() const { return error_; }
  // The last failure as a code: Asio's (timed_out, eof, ...) or ClientErrc::ProtocolError.
  const boost::system::error_code& error_code() const { return ec_; }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  template <class T>
  boost::asio::awaitable<std::optional<T>> bounded(boost::asio::awaitable<T> op,
                                                   TimePoint deadline);
  boost::asio::awaitable<void> watchdog(TimePoint deadline);
  void fail_io(const boost::system::error_code& ec, std::string_view what, bool reading);

  boost::asio::ip::tcp::socket sock_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::string in_;  // received, not yet parsed
  smtp::ReplyParser parser_;
  std::string peer_;
  std::string error_;
  boost::system::error_code ec_;
  bool timed_out_ = false;
  bool dane_ = false;  // the last handshake checked TLSA records
};

}  // namespace hk::delivery
