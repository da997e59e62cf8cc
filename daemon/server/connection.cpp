// Connection: plain or TLS byte stream of one SMTP client, and the PROXY protocol header that
// may precede it.
#include "daemon/server/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <variant>

#include "lib/base/log.hpp"

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

// An IPv4 client seen through an IPv6 socket (or named so in a PROXY header) is an IPv4 client:
// trusted_networks, limits and logs know it by its IPv4 address.
asio::ip::address unmapped(asio::ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

asio::ip::address to_asio(const proxy::Address& a) {
  if (a.v6) {
    return asio::ip::address_v6(a.bytes);
  }
  return asio::ip::address_v4({a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
}

// Peeked at per step while a PROXY header is read: larger than a v1 line and a v2 header with
// IPv6 addresses and the usual TLVs, so that one step nearly always suffices.
constexpr size_t kPeekSize = 512;

}  // namespace

Connection::Connection(tcp::socket sock) : sock_(std::move(sock)) {
  boost::system::error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) {
    remote_ = unmapped(ep.address());
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
      if (sniffing_ && !sniff_passes(std::string_view(buf, n))) {
        ec = asio::error::connection_refused;
        co_return std::string_view{};
      }
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
  if (sniffing_) {
    // Port 465: the client speaks first, and a TLS record never starts like a PROXY signature;
    // a load balancer's header, sent to a node that does not expect one, gets a plain answer
    // instead of a failed handshake.
    auto [e] = co_await sock_.async_wait(tcp::socket::wait_read, kTuple);
    boost::system::error_code ec;
    char first[proxy::kV2Signature.size()];
    size_t n = e ? 0 : sock_.receive(asio::buffer(first), tcp::socket::message_peek, ec);
    sniffing_ = false;
    if (proxy::sniff(std::string_view(first, ec ? 0 : n)) == proxy::Sniff::Yes) {
      refuse_header();
      co_return asio::error::connection_refused;
    }
  }
  ctx_ = std::move(ctx);
  tls_ = std::make_unique<TlsStream>(std::move(sock_), *ctx_);
  tls_buf_.reset(new char[kReadSize]);
  auto [e] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  if (!e) {
    // Acknowledge the client's Finished now. With no session tickets (tls.session_tickets off)
    // a TLS 1.3 server has nothing to send after it, and a STARTTLS client speaks next (EHLO,
    // RFC 3207 §4.2): a client without TCP_NODELAY holds that EHLO back (Nagle) until its
    // Finished is acknowledged, and Linux delays that ACK by up to 40 ms. Measured: 10 sessions
    // sending one message per connection on 587 went from ~175 to ~440 msg/s, as on 465, where
    // our greeting carries the ACK. The option is one-shot: later ACKs follow the usual rules.
    int one = 1;
    ::setsockopt(tls_->next_layer().native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
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

// The client must not send a PROXY header (see refuse_proxy_header()). The first octets are
// kept until they either complete a signature or leave every signature behind; an SMTP client's
// first command does the latter at once.
bool Connection::sniff_passes(std::string_view data) {
  size_t take = std::min(data.size(), sniffed_.size() - sniffed_size_);
  std::memcpy(sniffed_.data() + sniffed_size_, data.data(), take);
  sniffed_size_ = static_cast<uint8_t>(sniffed_size_ + take);
  proxy::Sniff s = proxy::sniff(std::string_view(sniffed_.data(), sniffed_size_));
  if (s == proxy::Sniff::Maybe) {
    return true;
  }
  sniffing_ = false;
  if (s == proxy::Sniff::No) {
    return true;
  }
  refuse_header();
  return false;
}

void Connection::refuse_header() {
  refused_->inc();
  base::log_warn() << "proxy client=" << remote_.to_string() << " result=refused reason="
                   << base::log_quote("header from outside proxy_networks");
  // 421 is the one reply that may close the channel at any point (RFC 5321 §3.8); the header
  // is not a command, and a sender that mistakes this server for one behind its balancer must
  // see why at once rather than a string of 500 replies.
  abort("421 4.7.0 PROXY protocol header not accepted from this address\r\n");
}

asio::awaitable<ProxyRead> Connection::read_proxy_header(
    std::chrono::steady_clock::duration limit) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(sock_.get_executor(), limit);
  std::variant<ProxyRead, std::monostate> r =
      co_await (read_header() || timer.async_wait(asio::use_awaitable));
  if (r.index() == 1) {
    co_return ProxyRead{std::nullopt, "no header in time"};
  }
  ProxyRead got = std::get<0>(r);
  if (got.header && got.header->source) {
    remote_ = unmapped(to_asio(*got.header->source));
  }
  co_return got;
}

// Peeks, parses what has come so far, and reads for real only octets that belong to the header:
// all of them while it is incomplete (the parser promises they do), exactly its rest once it is
// whole. The peek is never repeated without reading, so a slow sender cannot make this spin.
asio::awaitable<ProxyRead> Connection::read_header() {
  std::string got;  // the header's octets read so far; at most proxy::kMaxV2Size
  char peeked[kPeekSize];
  for (;;) {
    auto [e] = co_await sock_.async_wait(tcp::socket::wait_read, kTuple);
    if (e) {
      co_return ProxyRead{std::nullopt, "connection closed before the header"};
    }
    boost::system::error_code ec;
    size_t n = sock_.receive(asio::buffer(peeked), tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      continue;
    }
    if (ec || n == 0) {
      co_return ProxyRead{std::nullopt, "connection closed before the header"};
    }
    size_t before = got.size();
    got.append(peeked, n);
    proxy::Parsed p = proxy::parse(got);
    if (p.status == proxy::Status::Invalid) {
      co_return ProxyRead{std::nullopt, p.error};
    }
    bool whole = p.status == proxy::Status::Done;
    if (!drain(whole ? p.size - before : n)) {
      co_return ProxyRead{std::nullopt, "connection closed before the header"};
    }
    if (whole) {
      co_return ProxyRead{p.header, {}};
    }
  }
}

// Reads `n` octets that a peek has shown are there.
bool Connection::drain(size_t n) {
  char sink[kPeekSize];
  while (n > 0) {
    boost::system::error_code ec;
    size_t got = sock_.read_some(asio::buffer(sink, std::min(n, sizeof sink)), ec);
    if (ec || got == 0) {
      return false;
    }
    n -= got;
  }
  return true;
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
