// HttpsGet: one bounded HTTPS GET for MTA-STS policies (RFC 8461 §3.3); Boost.Beast writes the
// request and parses the response over the TLS stream.
#include "lib/http/https_get.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <string_view>
#include <variant>

#include "lib/base/text.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace boost::asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The status line and header fields of a policy response are short; 16 KiB is generous.
constexpr std::size_t kMaxHeader = 16 * 1024;

std::string_view trim(beast::string_view s) {
  return base::trim(std::string_view(s.data(), s.size()), " \t");
}

bool is_text_plain(std::string_view content_type) {
  return beast::iequals(trim(content_type.substr(0, content_type.find(';'))), "text/plain");
}

// Why a response from `peer` could not be read, for the log. `header_done` tells a cut body
// from a cut header; `end_known` whether the body's end is marked (Content-Length or chunked)
// rather than being the end of the connection.
std::string read_error(const boost::system::error_code& ec, bool header_done, bool end_known,
                       const std::string& peer) {
  if (ec == http::error::header_limit) {
    return "response header too large from " + peer;
  }
  if (ec == http::error::bad_version || ec == http::error::bad_status ||
      ec == http::error::bad_reason) {
    return "malformed status line from " + peer;
  }
  if (ec == http::error::bad_field || ec == http::error::bad_value ||
      ec == http::error::bad_line_ending || ec == http::error::bad_obs_fold) {
    return "malformed header field from " + peer;
  }
  if (ec == http::error::bad_content_length) {
    return "malformed Content-Length from " + peer;
  }
  if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_chunk ||
      ec == http::error::bad_chunk_extension) {
    return "malformed chunked body from " + peer;
  }
  bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
  if (closed && !header_done) {
    return "connection closed by " + peer + " before a complete response";
  }
  // A missing close_notify (stream_truncated) is harmless when the body's end is marked; when
  // the body runs to the end of the connection it is the only sign of a cut, so it fails.
  if (closed && end_known) {
    return "response truncated by " + peer;
  }
  return "reading from " + peer + ": " + ec.message();
}

// One connection to one address; the watchdog closes the socket at the deadline, which also
// ends a TLS read in the middle of a record.
class Attempt {
 public:
  Attempt(asio::any_io_executor ex, asio::ssl::context& ctx, const HttpsRequest& req,
          Clock::time_point deadline)
      : sock_(std::move(ex)), tls_(sock_, ctx), req_(req), deadline_(deadline) {}

  asio::awaitable<HttpsResult> run(tcp::endpoint ep) {
    peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    std::variant<HttpsResult, std::monostate> r = co_await (fetch(ep) || watchdog());
    if (r.index() == 1) {
      HttpsResult t;
      t.error = "timeout fetching https://" + req_.host + req_.path + " from " + peer_;
      co_return t;
    }
    co_return std::move(std::get<0>(r));
  }

  // The TLS handshake with this address succeeded: its answer is final.
  bool reached() const { return reached_; }

 private:
  asio::awaitable<void> watchdog() {
    asio::steady_timer timer(sock_.get_executor(), deadline_);
    auto [ec] = co_await timer.async_wait(kTuple);
    asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (ec || cs.cancelled() != asio::cancellation_type::none) {
      co_return;
    }
    boost::system::error_code ignored;
    sock_.close(ignored);
  }

  HttpsResult failed(std::string why) {
    HttpsResult r;
    r.error = std::move(why);
    boost::system::error_code ignored;
    sock_.close(ignored);
    return r;
  }

  asio::awaitable<HttpsResult> fetch(tcp::endpoint ep) {
    auto [cec] = co_await sock_.async_connect(ep, kTuple);
    if (cec) {
      co_return failed("cannot connect to " + peer_ + ": " + cec.message());
    }
    SSL* ssl = tls_.native_handle();
    // RFC 8461 §3.3: the policy host's certificate must be valid for mta-sts.<domain>, chained
    // to a trusted root. SNI is sent (RFC 6066 §3); the handshake fails on a bad certificate.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(req_.host.c_str()));
    SSL_set1_host(ssl, req_.host.c_str());
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    auto [hec] = co_await tls_.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
      long v = SSL_get_verify_result(ssl);
      std::string why = v != X509_V_OK ? std::string("certificate not verified for ") + req_.host +
                                             ": " + X509_verify_cert_error_string(v)
                                       : hec.message();
      co_return failed("TLS handshake with " + peer_ + " failed: " + why);
    }
    if (SSL_get0_peer_certificate(ssl) == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
      co_return failed("certificate of " + peer_ + " not verified for " + req_.host);
    }
    reached_ = true;

    // HTTP/1.1 (RFC 9112) with "Connection: close": one request per connection, so the body
    // ends at Content-Length, at the last chunk or at the close. No content coding is accepted
    // (RFC 9110 §12.5.3: "identity" alone).
    http::request<http::empty_body> request(http::verb::get, req_.path, 11);
    request.set(http::field::host, req_.host);
    request.set(http::field::connection, "close");
    request.set(http::field::accept, "text/plain");
    request.set(http::field::accept_encoding, "identity");
    request.set(http::field::user_agent, "hikyaku");
    auto [wec, wn] = co_await http::async_write(tls_, request, kTuple);
    if (wec) {
      co_return failed("cannot send request to " + peer_ + ": " + wec.message());
    }

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeader);
    // The status is judged before the size, so a large error page reads as its status: no body
    // limit until the header is in.
    parser.body_limit(boost::none);
    auto [rec, rn] = co_await http::async_read_header(tls_, buffer, parser, kTuple);
    if (rec) {
      co_return failed(read_error(rec, false, false, peer_));
    }
    const http::response<http::string_body>& res = parser.get();
    if (res.version() != 10 && res.version() != 11) {
      co_return failed("malformed status line from " + peer_);
    }
    int status = static_cast<int>(res.result_int());
    if (status != 200) {
      // §3.3: only a 200 counts, and redirects are never followed.
      std::string why = "HTTP status " + std::to_string(status) + " from " + peer_;
      if (status / 100 == 3) {
        why += " (redirects are not followed, RFC 8461 §3.3)";
      }
      HttpsResult r = failed(why);
      r.status = status;
      co_return r;
    }
    // The parser decodes "chunked" (RFC 9112 §7.1); any other transfer coding, or a content
    // coding we did not offer, would leave bytes that are not the policy.
    auto te = res.find(http::field::transfer_encoding);
    auto ce = res.find(http::field::content_encoding);
    if ((te != res.end() && !beast::iequals(trim(te->value()), "chunked")) ||
        (ce != res.end() && !beast::iequals(trim(ce->value()), "identity"))) {
      co_return failed("unexpected transfer or content encoding from " + peer_);
    }
    if (parser.content_length() && *parser.content_length() > req_.max_body) {
      co_return failed("policy larger than " + std::to_string(req_.max_body) + " bytes from " +
                       peer_);
    }
    parser.body_limit(req_.max_body);
    auto [bec, bn] = co_await http::async_read(tls_, buffer, parser, kTuple);
    if (bec == http::error::body_limit) {
      co_return failed("policy larger than " + std::to_string(req_.max_body) + " bytes from " +
                       peer_);
    }
    if (bec) {
      bool end_known = parser.content_length().has_value() || parser.chunked();
      co_return failed(read_error(bec, true, end_known, peer_));
    }
    HttpsResult r;
    r.status = status;
    r.content_type = std::string(trim(res[http::field::content_type]));
    r.body = std::move(parser.get().body());
    boost::system::error_code ignored;
    sock_.close(ignored);
    if (!is_text_plain(r.content_type)) {
      r.error = "media type \"" + r.content_type + "\" from " + peer_ + " is not text/plain";
      co_return r;
    }
    r.ok = true;
    co_return r;
  }

  tcp::socket sock_;
  asio::ssl::stream<tcp::socket&> tls_;
  const HttpsRequest& req_;
  Clock::time_point deadline_;
  std::string peer_;
  bool reached_ = false;
};

}  // namespace

asio::awaitable<HttpsResult> https_get(asio::any_io_executor ex, asio::ssl::context& ctx,
                                       std::vector<asio::ip::address> addrs, HttpsRequest req) {
  Clock::time_point deadline = Clock::now() + req.timeout;
  HttpsResult last;
  last.error = "no address for " + req.host;
  for (const asio::ip::address& addr : addrs) {
    if (Clock::now() >= deadline) {
      last.error = "timeout fetching https://" + req.host + req.path;
      break;
    }
    Attempt attempt(ex, ctx, req, deadline);
    last = co_await attempt.run(tcp::endpoint(addr, req.port));
    if (last.ok || attempt.reached()) {
      break;
    }
  }
  co_return last;
}

}  // namespace hk::delivery
