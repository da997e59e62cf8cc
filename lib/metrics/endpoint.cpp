// Endpoint: the accept loop and one coroutine per HTTP connection (Beast's tcp_stream, whose
// expiry bounds every read and write).
#include "lib/metrics/endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "lib/base/listen.hpp"
#include "lib/base/log.hpp"

namespace hk::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Endpoint::Shared {
  Render render;
  Options options;
  std::size_t open = 0;  // connections being served; touched on the executor only
};

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A scrape is a request line and a few header fields; 8 KiB is what Beast and most servers allow
// for a request header. The buffer may also hold the start of a pipelined next request.
constexpr std::size_t kMaxHeader = 8 * 1024;
constexpr std::size_t kMaxBuffered = 2 * kMaxHeader;
// Prometheus's media type for the text format, with its version (text format 0.0.4).
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

using Response = http::response<http::string_body>;

Response plain(http::status status, unsigned version, std::string body) {
  Response res(status, version);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The answer to a request that parsed: the page, or why not.
Response answer(const http::request<http::empty_body>& req, const Endpoint::Render& render) {
  std::string_view target(req.target().data(), req.target().size());
  // A query string is ignored: Prometheus adds one when a scrape config sets `params`.
  if (target.substr(0, target.find('?')) != "/metrics") {
    return plain(http::status::not_found, req.version(), "Not found; try /metrics\n");
  }
  bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    // RFC 9110 §15.5.6: a 405 names the methods the resource supports.
    Response res = plain(http::status::method_not_allowed, req.version(), "Use GET or HEAD\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::string page = render();
  Response res(http::status::ok, req.version());
  res.set(http::field::content_type, kContentType);
  if (head) {
    // RFC 9110 §9.3.2: HEAD gets the header fields GET would, Content-Length included, and no
    // content.
    res.content_length(page.size());
  } else {
    res.body() = std::move(page);
    res.prepare_payload();
  }
  return res;
}

// The error status for a request that did not parse, or nothing when the client just went away.
std::optional<http::status> parse_failure(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return http::status::request_header_fields_too_large;  // RFC 6585 §5
  }
  if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
    return http::status::payload_too_large;  // RFC 9110 §15.5.14: a scrape has no content
  }
  if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return http::status::bad_request;
  }
  return std::nullopt;  // end of stream, timeout or a socket error
}

// One connection: requests answered in turn until the client closes, asks to close, sends
// something that is not a request we can read, or stays silent past the timeout.
asio::awaitable<void> serve(tcp::socket sock, std::shared_ptr<Endpoint::Shared> shared) {
  struct Slot {
    Endpoint::Shared& s;
    ~Slot() { --s.open; }
  } slot{*shared};
  const Endpoint::Options& opts = shared->options;
  beast::tcp_stream stream(std::move(sock));
  beast::flat_buffer buffer(kMaxBuffered);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxHeader);
    parser.body_limit(0);
    stream.expires_after(opts.timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) {
      if (auto status = parse_failure(ec)) {
        Response res = plain(*status, 11, std::string(http::obsolete_reason(*status)) + "\n");
        res.keep_alive(false);
        stream.expires_after(opts.timeout);
        co_await http::async_write(stream, res, kTuple);
      }
      break;
    }
    const http::request<http::empty_body>& req = parser.get();
    Response res = answer(req, shared->render);
    res.keep_alive(req.keep_alive());
    stream.expires_after(opts.timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

Endpoint::Endpoint(asio::any_io_executor ex, const std::string& host, uint16_t port, Render render,
                   Options options)
    : acceptor_(ex), shared_(std::make_shared<Shared>(Shared{std::move(render), options})) {
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(host, ec), port);
  if (!ec) {
    ec = base::open_listener(acceptor_, ep);
  }
  if (ec) {
    throw std::runtime_error("cannot listen on metrics " + host + ":" + std::to_string(port) +
                             ": " + ec.message());
  }
}

Endpoint::~Endpoint() = default;

tcp::endpoint Endpoint::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Endpoint::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> Endpoint::run() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      // EMFILE and friends: log, breathe, keep accepting.
      base::log_warn() << "metrics accept error=" << base::log_quote(ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(kTuple);
      continue;
    }
    if (shared_->open >= shared_->options.max_connections) {
      continue;  // `sock` closes here: the client sees the connection reset and retries
    }
    ++shared_->open;
    // Only the page's rendering can throw (out of memory): log it, go on.
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(sock), shared_),
                   [](std::exception_ptr e) { base::log_internal_error(e, "metrics"); });
  }
}

}  // namespace hk::metrics
