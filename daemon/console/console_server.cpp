// ConsoleServer: the accept loops, the first-byte sniff (HTTP or TLS), one coroutine per
// connection reading requests in turn, the gate (Host, TLS, password, CSRF) before routing, and
// the server-sent event streams.
#include "daemon/console/console_server.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "daemon/console/password_file.hpp"
#include "daemon/console/security.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/listen.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"

namespace hk::console {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The first byte of a TLS record of type handshake (RFC 8446 §5.1: ContentType 22); an HTTP
// request line starts with a method's letter.
constexpr unsigned char kTlsHandshake = 0x16;
}  // namespace

// One open connection, as close() sees it.
struct Open {
  beast::tcp_stream* stream = nullptr;  // the lowest layer, whatever is on top
  bool busy = false;                    // a request is being answered (or an event stream runs)
};

struct ConsoleServer::Shared {
  Router router;
  Hooks hooks;
  Settings settings;
  Limits limits;
  asio::thread_pool* pool = nullptr;
  std::string csrf_token;
  PasswordFile password;
  bool closing = false;
  // Never expires; close() cancels it, which wakes every until_closed().
  std::unique_ptr<asio::steady_timer> closed;
  size_t open = 0;
  std::map<std::string, size_t> per_address;
  std::set<Open*> connections;
};

namespace {

using Shared = ConsoleServer::Shared;

std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("console: no randomness for the CSRF token");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A refusal before routing: JSON for the API (its clients read {"Error"}), text elsewhere.
Response refuse(const Call& call, http::status status, std::string_view message) {
  if (call.path.rfind("/api/", 0) == 0) {
    return error_response(call, status, message);
  }
  return make_response(call, status, "text/plain; charset=utf-8", std::string(message) + "\n");
}

// The error status for a request that did not parse, or nothing when the client just went away.
std::optional<http::status> parse_failure(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return http::status::request_header_fields_too_large;  // RFC 6585 §5
  }
  if (ec == http::error::body_limit) {
    return http::status::payload_too_large;  // RFC 9110 §15.5.14
  }
  if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return http::status::bad_request;
  }
  return std::nullopt;  // end of stream, timeout or a socket error
}

template <class Stream>
beast::tcp_stream& tcp_layer(Stream& s) {
  return beast::get_lowest_layer(s);
}

// The event stream of one connection: writes one at a time (the handler's events and the
// server's pings may come at once), each bounded by the write timeout.
template <class Stream>
class Events final : public EventStream {
 public:
  Events(Stream& stream, Shared& shared)
      : stream_(stream),
        shared_(shared),
        idle_(stream.get_executor(), asio::steady_timer::time_point::max()) {}

  asio::awaitable<bool> send(std::string_view event, std::string_view data) override {
    co_return co_await write(sse_event(event, data));
  }
  asio::awaitable<bool> ping() override { co_return co_await write(std::string(kSsePing)); }

  asio::awaitable<bool> write(std::string frame) {
    while (busy_ && ok_) {
      co_await idle_.async_wait(kTuple);  // woken by the write in progress when it ends
    }
    if (!ok_ || shared_.closing) {
      co_return false;
    }
    busy_ = true;
    tcp_layer(stream_).expires_after(shared_.limits.timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(frame), kTuple);
    tcp_layer(stream_).expires_never();
    busy_ = false;
    idle_.cancel();
    if (ec) {
      ok_ = false;
    }
    co_return ok_;
  }

 private:
  Stream& stream_;
  Shared& shared_;
  // Never expires: a write that must wait for another waits on it, and is woken by its cancel().
  asio::steady_timer idle_;
  bool busy_ = false;
  bool ok_ = true;
};

// Returns when the server closes (or when cancelled: the other side of an `||` finished first).
asio::awaitable<void> until_closed(Shared& shared) {
  if (!shared.closing) {
    co_await shared.closed->async_wait(kTuple);
  }
}

// Pings until the stream fails.
template <class Stream>
asio::awaitable<void> pinger(Events<Stream>& events, Shared& shared) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(shared.limits.ping_interval);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec || !co_await events.ping()) {
      break;
    }
  }
}

// Returns when the client closes its side (or sends anything: an event stream takes no input).
template <class Stream>
asio::awaitable<void> hangup(Stream& stream) {
  char scratch[512];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), kTuple);
    if (ec) {
      co_return;
    }
  }
}

// The response header of an event stream, then events until the handler returns, the client
// goes or the server closes. The stream is close-delimited (RFC 9112 §6.3 rule 8).
template <class Stream>
asio::awaitable<void> run_events(Stream& stream, Shared& shared, Call& call,
                                 const EventsHandler& handler) {
  http::response<http::empty_body> head(http::status::ok, call.req.version());
  head.set(http::field::content_type, "text/event-stream; charset=utf-8");
  head.keep_alive(false);
  Response fields;
  add_security_headers(fields);
  for (const auto& f : fields) {
    head.set(f.name_string(), f.value());
  }
  tcp_layer(stream).expires_after(shared.limits.timeout);
  auto [ec, n] = co_await http::async_write(stream, head, kTuple);
  tcp_layer(stream).expires_never();
  if (ec || call.req.method() == http::verb::head) {
    co_return;
  }
  Events<Stream> events(stream, shared);
  // Ready at once: the client knows the subscription is live (and a proxy flushes).
  if (!co_await events.ping()) {
    co_return;
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (handler(call, events) || pinger(events, shared) || hangup(stream) ||
            until_closed(shared));
}

// The password check of a remote client: true when the Basic credentials are the operator's.
asio::awaitable<bool> check_password(Shared& shared, const Request& req) {
  auto field = req.find(http::field::authorization);
  if (field == req.end()) {
    co_return false;
  }
  auto creds = parse_basic(field->value());
  const std::string* hash = shared.password.hash();
  if (!creds || hash == nullptr || creds->user != kConsoleUser) {
    co_return false;
  }
  if (shared.password.cached(creds->password)) {
    co_return true;
  }
  std::string h = *hash;
  // A named work object, moved in: GCC 12 mishandles a lambda temporary in a co_await
  // expression (lib/base/offload.hpp).
  auto work = [h, pw = creds->password] { return verify_password_ok(h, pw); };
  bool ok = co_await base::offload(*shared.pool, std::move(work));
  // Remembered only for the hash it was checked against (the file may change meanwhile).
  const std::string* now = shared.password.hash();
  if (ok && now != nullptr && *now == h) {
    shared.password.remember(creds->password);
  }
  co_return ok;
}

struct Peer {
  asio::ip::address address;
  std::string ip;
  std::string local;  // the address the client connected to
  bool loopback = false;
};

// One request whose header has been read: the gate, then the handler. nullopt: an event stream
// was served (the connection ends).
template <class Stream>
asio::awaitable<std::optional<Response>> answer(Stream& stream, beast::flat_buffer& buffer,
                                                http::request_parser<http::string_body>& parser,
                                                Shared& shared, const Peer& peer, bool tls,
                                                bool& body_read) {
  const Request& req = parser.get();
  auto target = parse_target(std::string_view(req.target().data(), req.target().size()));
  Call call{req,
            target ? target->path : std::string(),
            {},
            {},
            peer.ip,
            peer.loopback,
            tls,
            false,
            shared.csrf_token};
  if (!target) {
    co_return refuse(call, http::status::bad_request, "Bad request target");
  }
  call.query = std::move(target->query);
  auto host = req.find(http::field::host);
  bool host_ok =
      host != req.end() && host_allowed(host->value(), shared.settings.hostnames, peer.local);
  switch (gate(host_ok, peer.loopback, tls, shared.password.hash() != nullptr)) {
    case Gate::BadHost:
      base::log_info() << "console client=" << peer.ip << " result=refused reason=host host="
                       << base::log_quote(host == req.end() ? "" : host->value());
      co_return refuse(call, http::status::forbidden,
                       "This Host is not one of the console's names; add it to [console] "
                       "hostnames in hikyaku.toml");
    case Gate::NeedTls:
      co_return refuse(call, http::status::forbidden,
                       "Use https:// to reach the console from another machine (plain HTTP is "
                       "for loopback only)");
    case Gate::NoPassword:
      co_return refuse(call, http::status::forbidden,
                       "Remote access needs an operator password: set [console] password_file "
                       "(hikyaku-util console-password)");
    case Gate::NeedPassword: {
      if (shared.hooks.banned && shared.hooks.banned(peer.address)) {
        base::log_info() << "console client=" << peer.ip << " result=refused reason=banned";
        co_return refuse(call, http::status::forbidden,
                         "Too many failed logins from this address; try again later");
      }
      if (!co_await check_password(shared, req)) {
        if (req.find(http::field::authorization) != req.end()) {
          base::log_info() << "console client=" << peer.ip << " result=auth-failed";
          auto delay = shared.hooks.auth_failed ? shared.hooks.auth_failed(peer.address)
                                                : std::chrono::milliseconds(0);
          if (delay.count() > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor, delay);
            co_await t.async_wait(kTuple);
          }
        }
        Response res = refuse(call, http::status::unauthorized, "The console needs a password");
        // RFC 7617 §2: the realm, and the charset the password is encoded in.
        res.set(http::field::www_authenticate,
                "Basic realm=\"hikyaku console\", charset=\"UTF-8\"");
        co_return res;
      }
      call.authenticated = true;
      break;
    }
    case Gate::Pass:
      break;
  }
  if (!csrf_ok(req, shared.csrf_token)) {
    base::log_info() << "console client=" << peer.ip
                     << " result=refused reason=csrf method=" << req.method_string()
                     << " path=" << base::log_quote(call.path);
    co_return refuse(call, http::status::forbidden,
                     "A state change from a browser needs the page's X-CSRF-Token");
  }
  Router::Match m = shared.router.match(req.method(), call.path);
  if (!m.handler && !m.events) {
    if (m.wrong_method) {
      Response res = refuse(call, http::status::method_not_allowed, "Method not allowed");
      res.set(http::field::allow, m.allow);
      co_return res;
    }
    co_return refuse(call, http::status::not_found, "Not found");
  }
  call.params = std::move(m.params);
  // The gate passed: now the content (RFC 9110 §10.1.1: answer 100 Continue when asked for).
  if (!parser.is_done()) {
    auto expect = req.find(http::field::expect);
    if (expect != req.end() && base::iequals(expect->value(), "100-continue")) {
      http::response<http::empty_body> cont(http::status::continue_, req.version());
      tcp_layer(stream).expires_after(shared.limits.timeout);
      co_await http::async_write(stream, cont, kTuple);
    }
    tcp_layer(stream).expires_after(shared.limits.timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) {
      auto status = parse_failure(ec);
      if (!status) {
        co_return std::nullopt;
      }
      Response res = refuse(call, *status, http::obsolete_reason(*status));
      res.keep_alive(false);
      co_return res;
    }
  }
  body_read = true;
  if (m.events) {
    co_await run_events(stream, shared, call, *m.events);
    co_return std::nullopt;
  }
  // A handler that waits (a long poll) is cancelled when the daemon stops.
  using namespace asio::experimental::awaitable_operators;
  auto result = co_await ((*m.handler)(call) || until_closed(shared));
  if (result.index() == 0) {
    Response res = std::get<0>(std::move(result));
    if (call.path == "/") {
      // The page's token also as a header field (the page carries it in a meta tag), for those
      // who passed the gate: scripts of the same origin can read it, others cannot (CORS), and
      // clients such as tests need no HTML parser.
      res.set("X-CSRF-Token", shared.csrf_token);
    }
    co_return res;
  }
  co_return refuse(call, http::status::service_unavailable, "The daemon is stopping");
}

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, beast::flat_buffer& buffer, Shared& shared,
                                     Open& open, const Peer& peer, bool tls) {
  while (!shared.closing) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(shared.limits.max_header));
    parser.body_limit(shared.limits.max_body);
    tcp_layer(stream).expires_after(shared.limits.timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    if (ec) {
      if (auto status = parse_failure(ec)) {
        Request none;
        Call call{none, "/", {}, {}, peer.ip, peer.loopback, tls, false, shared.csrf_token};
        Response res = refuse(call, *status, http::obsolete_reason(*status));
        res.keep_alive(false);
        add_security_headers(res);
        tcp_layer(stream).expires_after(shared.limits.timeout);
        co_await http::async_write(stream, res, kTuple);
      }
      co_return;
    }
    open.busy = true;
    bool body_read = false;
    std::optional<Response> res =
        co_await answer(stream, buffer, parser, shared, peer, tls, body_read);
    if (!res) {
      co_return;  // an event stream, or the client went away
    }
    // A refusal before the content was read leaves it on the wire: close after answering.
    if (!body_read && !parser.is_done()) {
      res->keep_alive(false);
    }
    if (shared.closing) {
      res->keep_alive(false);
    }
    add_security_headers(*res);
    base::log_debug() << "console client=" << peer.ip << " method=" << parser.get().method_string()
                      << " target="
                      << base::log_quote(std::string_view(parser.get().target().data(),
                                                          parser.get().target().size()))
                      << " status=" << res->result_int() << (tls ? " tls=yes" : " tls=no");
    if (parser.get().method() == http::verb::head) {
      // RFC 9110 §9.3.2: the header fields GET would have, Content-Length included, no content.
      size_t length = res->body().size();
      res->body().clear();
      res->content_length(length);
    }
    tcp_layer(stream).expires_after(shared.limits.timeout);
    auto [wec, wn] = co_await http::async_write(stream, *res, kTuple);
    open.busy = false;
    if (wec || !res->keep_alive()) {
      co_return;
    }
  }
}

asio::awaitable<void> serve(tcp::socket sock, std::shared_ptr<Shared> sh, Peer peer) {
  Shared& shared = *sh;
  Open open;
  struct Slot {
    Shared& s;
    Open& o;
    std::string key;
    ~Slot() {
      --s.open;
      if (--s.per_address[key] == 0) {
        s.per_address.erase(key);
      }
      s.connections.erase(&o);
    }
  } slot{shared, open, peer.ip};
  beast::tcp_stream stream(std::move(sock));
  open.stream = &stream;
  shared.connections.insert(&open);
  beast::flat_buffer buffer(shared.limits.max_header + 4096);
  stream.expires_after(shared.limits.timeout);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1), kTuple);
  if (ec || n == 0) {
    co_return;
  }
  buffer.commit(n);
  const auto* first = static_cast<const unsigned char*>(buffer.data().data());
  if (*first != kTlsHandshake) {
    co_await serve_requests(stream, buffer, shared, open, peer, false);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  std::shared_ptr<asio::ssl::context> ctx = shared.hooks.tls ? shared.hooks.tls() : nullptr;
  if (!ctx) {
    base::log_info() << "console client=" << peer.ip << " result=refused reason=no-certificate";
    co_return;
  }
  asio::ssl::stream<beast::tcp_stream> tls(std::move(stream), *ctx);
  open.stream = &tls.next_layer();
  tls.next_layer().expires_after(shared.limits.timeout);
  auto [hec, used] =
      co_await tls.async_handshake(asio::ssl::stream_base::server, buffer.data(), kTuple);
  if (hec) {
    base::log_debug() << "console client=" << peer.ip
                      << " result=tls-failed error=" << base::log_quote(hec.message());
    co_return;
  }
  buffer.consume(used);
  co_await serve_requests(tls, buffer, shared, open, peer, true);
  tls.next_layer().expires_after(std::chrono::seconds(2));
  co_await tls.async_shutdown(kTuple);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<Shared> sh) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open() || sh->closing) {
        co_return;
      }
      base::log_warn() << "console accept error=" << base::log_quote(ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(kTuple);
      continue;
    }
    Peer peer;
    boost::system::error_code rec, lec;
    auto remote = sock.remote_endpoint(rec);
    auto local = sock.local_endpoint(lec);
    if (rec || lec) {
      continue;
    }
    peer.address = remote.address();
    if (peer.address.is_v6() && peer.address.to_v6().is_v4_mapped()) {
      peer.address = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address.to_v6());
    }
    peer.ip = peer.address.to_string();
    peer.local = local.address().to_string();
    peer.loopback = is_loopback(peer.address);
    // Over either bound the connection is closed at once: the client sees it reset and retries.
    if (sh->open >= sh->limits.max_connections ||
        sh->per_address[peer.ip] >= sh->limits.max_connections_per_address) {
      if (sh->per_address[peer.ip] == 0) {
        sh->per_address.erase(peer.ip);
      }
      base::log_debug() << "console client=" << peer.ip << " result=refused reason=connections";
      continue;
    }
    ++sh->open;
    ++sh->per_address[peer.ip];
    // A handler that threw: the connection is gone, the daemon goes on.
    asio::co_spawn(acceptor.get_executor(), serve(std::move(sock), sh, std::move(peer)),
                   [](std::exception_ptr e) { base::log_internal_error(e, "console"); });
  }
}

}  // namespace

ConsoleServer::ConsoleServer(asio::any_io_executor ex, asio::thread_pool& pool,
                             const std::vector<Address>& listen, Router router, Hooks hooks,
                             Settings settings, Limits limits)
    : shared_(std::make_shared<Shared>()) {
  shared_->router = std::move(router);
  shared_->hooks = std::move(hooks);
  shared_->limits = limits;
  shared_->pool = &pool;
  shared_->csrf_token = random_token();
  shared_->closed = std::make_unique<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  configure(std::move(settings));
  for (const Address& a : listen) {
    auto acceptor = std::make_unique<tcp::acceptor>(ex);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(a.host, ec), a.port);
    if (!ec) {
      ec = base::open_listener(*acceptor, ep);
    }
    if (ec) {
      throw std::runtime_error("cannot listen on console " + a.host + ":" + std::to_string(a.port) +
                               ": " + ec.message());
    }
    acceptors_.push_back(std::move(acceptor));
  }
}

ConsoleServer::~ConsoleServer() { close(); }

void ConsoleServer::configure(Settings settings) {
  shared_->password.configure(settings.password_file, settings.auth_cache_ttl,
                              settings.auth_cache_size);
  shared_->settings = std::move(settings);
}

std::vector<tcp::endpoint> ConsoleServer::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    out.push_back(a->local_endpoint(ec));
  }
  return out;
}

const std::string& ConsoleServer::csrf_token() const { return shared_->csrf_token; }

void ConsoleServer::start() {
  for (auto& a : acceptors_) {
    asio::co_spawn(a->get_executor(), accept_loop(*a, shared_), [](std::exception_ptr e) {
      if (e) {
        base::log_error() << "console result=internal-error where=accept";
      }
    });
  }
}

void ConsoleServer::close() {
  if (shared_->closing) {
    return;
  }
  shared_->closing = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  // Handlers that wait and event streams end now (cancelled); idle connections too; a request
  // being answered ends after its response (closing makes it the last).
  shared_->closed->cancel();
  for (Open* o : shared_->connections) {
    if (!o->busy) {
      o->stream->cancel();
    }
  }
}

size_t ConsoleServer::open_connections() const { return shared_->open; }

}  // namespace hk::console
