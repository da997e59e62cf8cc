// HttpsGet: one bounded HTTPS GET for MTA-STS policies (RFC 8461 §3.3).
#include "lib/http/https_get.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>

#include "lib/base/text.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The status line and header fields of a policy response are short; 16 KiB is generous.
constexpr std::size_t kMaxHeader = 16 * 1024;
constexpr std::size_t kReadChunk = 4096;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) { return base::trim(s, " \t\r"); }

struct Head {
  int status = 0;
  std::optional<std::size_t> content_length;
  std::string content_type;
  bool chunked_or_encoded = false;
};

// Parses the status line and header fields (RFC 9112 §4, §5); an error text, or empty.
std::string parse_head(std::string_view head, Head& out) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  // "HTTP/1.1 200 OK": the version, one space, three digits, then a space or the end.
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return "malformed status line";
  }
  std::string_view code = status_line.substr(9, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), out.status);
  if (ec != std::errc() || p != code.data() + code.size() || out.status < 100) {
    return "malformed status line";
  }
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    if (line.empty()) {
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return "malformed header field";
    }
    std::string name = lower(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      std::size_t n = 0;
      auto [q, lec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (lec != std::errc() || q != value.data() + value.size() || value.empty() ||
          (out.content_length && *out.content_length != n)) {
        return "malformed Content-Length";
      }
      out.content_length = n;
    } else if (name == "content-type") {
      out.content_type = std::string(value);
    } else if (name == "transfer-encoding" || name == "content-encoding") {
      // We asked in HTTP/1.0 and offered no encoding: neither may come back (RFC 9112 §6.1).
      out.chunked_or_encoded = true;
    }
  }
  return "";
}

bool is_text_plain(std::string_view content_type) {
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  return lower(media) == "text/plain";
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
    // HTTP/1.0 so that the answer is never chunked; "Connection: close" as §3.3 asks.
    std::string request = "GET " + req_.path + " HTTP/1.0\r\nHost: " + req_.host +
                          "\r\nConnection: close\r\nAccept: text/plain\r\n"
                          "User-Agent: hikyaku\r\n\r\n";
    auto [wec, wn] = co_await asio::async_write(tls_, asio::buffer(request), kTuple);
    if (wec) {
      co_return failed("cannot send request to " + peer_ + ": " + wec.message());
    }
    std::string in;
    std::optional<Head> head;
    std::size_t body_start = 0;
    bool eof = false;
    for (;;) {
      if (!head) {
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          head.emplace();
          std::string err = parse_head(std::string_view(in).substr(0, end), *head);
          if (!err.empty()) {
            co_return failed(err + " from " + peer_);
          }
          body_start = end + 4;
          if (head->status != 200) {
            // §3.3: only a 200 counts, and redirects are never followed.
            std::string why = "HTTP status " + std::to_string(head->status) + " from " + peer_;
            if (head->status / 100 == 3) {
              why += " (redirects are not followed, RFC 8461 §3.3)";
            }
            HttpsResult r = failed(why);
            r.status = head->status;
            co_return r;
          }
          if (head->chunked_or_encoded) {
            co_return failed("unexpected transfer or content encoding from " + peer_);
          }
          if (head->content_length && *head->content_length > req_.max_body) {
            co_return failed("policy larger than " + std::to_string(req_.max_body) +
                             " bytes from " + peer_);
          }
        } else if (in.size() > kMaxHeader) {
          co_return failed("response header too large from " + peer_);
        }
      }
      if (head) {
        std::size_t have = in.size() - body_start;
        if (have > req_.max_body) {
          co_return failed("policy larger than " + std::to_string(req_.max_body) + " bytes from " +
                           peer_);
        }
        if (head->content_length && have >= *head->content_length) {
          in.resize(body_start + *head->content_length);
          break;
        }
        if (eof) {
          if (head->content_length) {
            co_return failed("response truncated by " + peer_);
          }
          break;
        }
      } else if (eof) {
        co_return failed("connection closed by " + peer_ + " before a complete response");
      }
      std::size_t old = in.size();
      in.resize(old + kReadChunk);
      auto [rec, n] =
          co_await tls_.async_read_some(asio::buffer(in.data() + old, kReadChunk), kTuple);
      in.resize(old + n);
      if (rec == asio::error::eof) {
        eof = true;  // a clean close_notify
      } else if (rec == asio::ssl::error::stream_truncated && head && head->content_length) {
        eof = true;  // a missing close_notify is harmless when the length is known
      } else if (rec) {
        co_return failed("reading from " + peer_ + ": " + rec.message());
      }
    }
    HttpsResult r;
    r.status = head->status;
    r.content_type = head->content_type;
    r.body = in.substr(body_start);
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
