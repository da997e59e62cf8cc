// ClientStream: deadline-bounded connect, TLS handshake, reply reading and writing.
#include "lib/smtp_client/client_stream.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <tuple>
#include <utility>
#include <variant>

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Replies are short (RFC 5321 §4.5.3.1.5: 512 octets a line); one read usually holds a reply.
constexpr size_t kReadChunk = 4096;

std::string endpoint_text(const tcp::endpoint& ep) {
  const asio::ip::address& a = ep.address();
  std::string host = a.to_string();
  if (a.is_v6()) {
    host = "[" + host + "]";
  }
  return host + ":" + std::to_string(ep.port());
}

// OpenSSL's DANE (RFC 6698, RFC 7671, RFC 7672) on one connection: `name` is the TLSA base
// domain and reference name; every record is added. False when none could be (OpenSSL would then
// fall back to the roots, which DANE must not).
bool enable_dane(SSL_CTX* ctx, SSL* ssl, const std::string& name,
                 const std::vector<dns::TlsaRecord>& tlsa) {
  // Once per context; later calls return at once.
  if (SSL_CTX_dane_enable(ctx) <= 0 || SSL_dane_enable(ssl, name.c_str()) <= 0) {
    return false;
  }
  // RFC 7672 §3.1.1: DANE-EE(3) authenticates the key alone, whatever names the certificate has.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int added = 0;
  for (const dns::TlsaRecord& r : tlsa) {
    if (SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type, r.data.data(), r.data.size()) >
        0) {
      ++added;
    }
  }
  return added > 0;
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::broken_pipe;
}

}  // namespace

ClientStream::ClientStream(asio::any_io_executor ex) : sock_(std::move(ex)) {}

ClientStream::~ClientStream() = default;

// Runs `op` against a watchdog that closes the socket at `deadline`: closing, rather than
// cancelling, also ends a TLS operation in the middle of a record. std::nullopt on timeout.
template <class T>
asio::awaitable<std::optional<T>> ClientStream::bounded(asio::awaitable<T> op, TimePoint deadline) {
  asio::awaitable<void> dog = watchdog(deadline);
  auto race = std::move(op) || std::move(dog);
  std::variant<T, std::monostate> r = co_await std::move(race);
  if (r.index() == 1) {
    co_return std::nullopt;
  }
  co_return std::move(std::get<0>(r));
}

asio::awaitable<void> ClientStream::watchdog(TimePoint deadline) {
  asio::steady_timer timer(sock_.get_executor(), deadline);
  auto [ec] = co_await timer.async_wait(kTuple);
  // The operation finishing first cancels us; that cancellation is recorded even when the timer
  // had already expired, so a reply arriving at the deadline is never thrown away.
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  if (ec || cs.cancelled() != asio::cancellation_type::none) {
    co_return;
  }
  timed_out_ = true;
  close();
}

void ClientStream::fail_io(const boost::system::error_code& ec, std::string_view what,
                           bool reading) {
  std::string w(what);
  ec_ = timed_out_ ? asio::error::timed_out : ec;
  if (timed_out_) {
    error_ = reading ? "timeout waiting for " + w + " from " + peer_
                     : "timeout sending " + w + " to " + peer_;
  } else if (is_disconnect(ec)) {
    error_ =
        "connection closed by " + peer_ + (reading ? " while waiting for " : " while sending ") + w;
  } else {
    error_ = ec.message() + (reading ? " while waiting for " : " while sending ") + w +
             (reading ? " from " : " to ") + peer_;
  }
  close();
}

asio::awaitable<boost::system::error_code> ClientStream::connect(
    const tcp::endpoint& ep, Duration limit, const std::optional<asio::ip::address>& source) {
  // A stream may connect again (SmtpClient's plaintext retry): nothing of the last one stays.
  tls_.reset();
  in_.clear();
  dane_ = false;
  peer_ = endpoint_text(ep);
  error_.clear();
  ec_.clear();
  timed_out_ = false;
  if (source) {
    // Bound before connect, so that the receiver sees the address its SPF and PTR checks expect.
    boost::system::error_code ec;
    sock_.open(ep.protocol(), ec);
    if (!ec) {
      sock_.bind(tcp::endpoint(*source, 0), ec);
    }
    if (ec) {
      error_ = "cannot send from " + source->to_string() + " to " + peer_ + ": " + ec.message();
      ec_ = ec;
      close();
      co_return ec;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto r = co_await bounded(sock_.async_connect(ep, kTuple), deadline);
  if (!r) {
    error_ = "timeout connecting to " + peer_;
    ec_ = asio::error::timed_out;
    close();
    co_return asio::error::timed_out;
  }
  auto [ec] = *r;
  if (ec == asio::error::connection_refused) {
    error_ = "connection refused by " + peer_;
  } else if (ec) {
    error_ = "cannot connect to " + peer_ + ": " + ec.message();
  }
  if (ec) {
    ec_ = ec;
    close();
    co_return ec;
  }
  boost::system::error_code ignored;
  sock_.set_option(tcp::no_delay(true), ignored);
  co_return ec;
}

asio::awaitable<boost::system::error_code> ClientStream::handshake(
    asio::ssl::context& ctx, const std::string& name, Duration limit,
    const std::vector<dns::TlsaRecord>* tlsa) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, ctx);
  SSL* ssl = tls_->native_handle();
  if (!name.empty()) {
    boost::system::error_code not_ip;
    asio::ip::make_address(name, not_ip);
    if (not_ip) {
      // RFC 6066 §3: SNI carries host names only, never address literals.
      // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
      SSL_set1_host(ssl, name.c_str());
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    }
  }
  dane_ = tlsa != nullptr;
  if (dane_ && !enable_dane(ctx.native_handle(), ssl, name, *tlsa)) {
    error_ = "DANE: no usable TLSA record for " + name + " (" + peer_ + ")";
    ec_ = ClientErrc::TlsFailed;
    close();
    co_return ec_;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto r =
      co_await bounded(tls_->async_handshake(asio::ssl::stream_base::client, kTuple), deadline);
  if (!r) {
    error_ = "timeout in TLS handshake with " + peer_;
    ec_ = asio::error::timed_out;
    close();
    co_return asio::error::timed_out;
  }
  auto [ec] = *r;
  if (ec) {
    error_ = "TLS handshake with " + peer_ + " failed: " + ec.message();
    ec_ = ec;
    close();
  }
  co_return ec;
}

asio::awaitable<std::optional<smtp::Reply>> ClientStream::read_reply(Duration limit,
                                                                     std::string_view what) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  parser_.reset();
  size_t pos = 0;  // start of the first line not yet fed to the parser
  for (;;) {
    size_t nl;
    while ((nl = in_.find('\n', pos)) != std::string::npos) {
      std::string_view line(in_.data() + pos, nl - pos);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      smtp::ReplyParser::Status st = parser_.feed(line);
      pos = nl + 1;
      if (st == smtp::ReplyParser::Status::Done) {
        in_.erase(0, pos);
        co_return parser_.take();
      }
      if (st == smtp::ReplyParser::Status::Malformed) {
        error_ = "protocol error: malformed " + std::string(what) + " from " + peer_;
        ec_ = ClientErrc::ProtocolError;
        close();
        co_return std::nullopt;
      }
    }
    in_.erase(0, pos);
    pos = 0;
    // A line that never ends is as bad as a reply that never ends (RFC 5321 §4.5.3.1.5).
    if (in_.size() > smtp::ReplyParser::kMaxReplyBytes) {
      error_ = "protocol error: over-long " + std::string(what) + " from " + peer_;
      ec_ = ClientErrc::ProtocolError;
      close();
      co_return std::nullopt;
    }
    if (!sock_.is_open()) {
      fail_io(asio::error::not_connected, what, true);
      co_return std::nullopt;
    }
    size_t old = in_.size();
    in_.resize(old + kReadChunk);
    auto buf = asio::buffer(in_.data() + old, kReadChunk);
    auto op = tls_ ? tls_->async_read_some(buf, kTuple) : sock_.async_read_some(buf, kTuple);
    auto r = co_await bounded(std::move(op), deadline);
    if (!r) {
      in_.resize(old);
      fail_io(asio::error::timed_out, what, true);
      co_return std::nullopt;
    }
    auto [ec, n] = *r;
    in_.resize(old + n);
    if (ec) {
      fail_io(ec, what, true);
      co_return std::nullopt;
    }
  }
}

asio::awaitable<bool> ClientStream::write(std::string_view data, Duration limit,
                                          std::string_view what) {
  if (!sock_.is_open()) {
    fail_io(asio::error::not_connected, what, false);
    co_return false;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto buf = asio::buffer(data);
  auto op = tls_ ? asio::async_write(*tls_, buf, kTuple) : asio::async_write(sock_, buf, kTuple);
  auto r = co_await bounded(std::move(op), deadline);
  if (!r) {
    fail_io(asio::error::timed_out, what, false);
    co_return false;
  }
  auto [ec, n] = *r;
  if (ec) {
    fail_io(ec, what, false);
    co_return false;
  }
  co_return true;
}

bool ClientStream::quiet() {
  if (!sock_.is_open() || !in_.empty()) {
    return false;
  }
  if (tls_) {
    // Decrypted bytes, or records read from the socket and not yet decrypted.
    SSL* ssl = tls_->native_handle();
    if (SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0) {
      return false;
    }
  }
  char byte;
  ssize_t n = ::recv(sock_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && errno == EAGAIN;  // Linux: EWOULDBLOCK is the same value
}

void ClientStream::close() {
  boost::system::error_code ignored;
  if (sock_.is_open()) {
    sock_.shutdown(tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }
}

std::string ClientStream::tls_version() const {
  return tls_ ? SSL_get_version(tls_->native_handle()) : "";
}

std::string ClientStream::tls_cipher() const {
  return tls_ ? SSL_get_cipher_name(tls_->native_handle()) : "";
}

bool ClientStream::verified(std::string& why) const {
  if (!tls_) {
    why = "no TLS";
    return false;
  }
  SSL* ssl = tls_->native_handle();
  if (SSL_get0_peer_certificate(ssl) == nullptr) {
    why = "no certificate";
    return false;
  }
  long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) {
    why = X509_verify_cert_error_string(result);
    return false;
  }
  // With DANE, OpenSSL reports OK only after a TLSA match; checked again so that a context that
  // lost DANE cannot pass a PKIX-verified chain off as a DANE match.
  if (dane_ && SSL_get0_dane_authority(ssl, nullptr, nullptr) < 0) {
    why = "no TLSA record matched";
    return false;
  }
  return true;
}

}  // namespace hk::delivery
