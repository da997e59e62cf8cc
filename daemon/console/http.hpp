// What the console's HTTP server (console_server.hpp) gives the code that answers requests: the
// request, what the server established about it before any handler runs (who is asking, over
// what, whether a state change is allowed), the path parameters, and the Router that maps
// method + path to a handler. Handlers build a Response; the server adds the security headers
// (Content-Security-Policy and friends) to every response unless the handler set its own.
//
// OWNER: the console-server engineer. Others code against this header and must not change it;
// the owner may add to it (keep what is here, with these meanings).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::console {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Call {
  const Request& req;
  std::string path;                           // the target's path, percent-decoded
  std::map<std::string, std::string> query;   // the target's query, percent-decoded
  std::map<std::string, std::string> params;  // "{ID}" in the route pattern → its value
  std::string client_ip;
  bool loopback = false;  // the client's address is 127.0.0.0/8 or ::1
  bool tls = false;
  // The server has already refused (401/403) any request that fails these; handlers may rely
  // on them: the operator password was given when one is needed, and a state-changing request
  // (POST, PUT, PATCH, DELETE) carries the page's CSRF token or comes from a non-browser client.
  bool authenticated = false;
  std::string csrf_token;  // the token pages must send back (X-CSRF-Token) on state changes
};

// A response with the usual fields filled (status, Content-Type, body, keep-alive from the
// request). `json` bodies are already JSON text.
Response make_response(const Call& call, http::status status, std::string content_type,
                       std::string body);
Response json_response(const Call& call, std::string json, http::status status = http::status::ok);
// {"Error": "<message>"} with that status (the shape /api/v1 clients expect).
Response error_response(const Call& call, http::status status, std::string_view message);

// A server-sent events stream (text/event-stream): what an events handler writes to. send()
// returns false once the client has gone; the handler then returns.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual boost::asio::awaitable<bool> send(std::string_view event, std::string_view data) = 0;
  // A comment line that keeps proxies from closing an idle stream; false once the client left.
  virtual boost::asio::awaitable<bool> ping() = 0;
};

// One server-sent event as it goes on the wire (WHATWG HTML §9.2 "Server-sent events"):
// "event: NAME\n", one "data: " line per line of `data` (CR, LF and CRLF all end a line, so a
// JSON text with newlines arrives whole), then an empty line. An empty `event` sends no event
// field (the client sees "message").
std::string sse_event(std::string_view event, std::string_view data);
// The comment line a ping sends: ignored by clients, but traffic for proxies and NATs.
inline constexpr std::string_view kSsePing = ": ping\n\n";

// Percent-decoding (RFC 3986 §2.1): nullopt for a '%' not followed by two hex digits. With
// `plus_is_space` (a query, HTML's application/x-www-form-urlencoded) '+' is a space.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
// A request target split into its decoded path and query (the first of a repeated name wins).
// nullopt for a target that is not origin-form ("/path?query", RFC 9112 §3.2.1) or that decodes
// badly: the server answers 400.
struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};
std::optional<Target> parse_target(std::string_view target);

using Handler = std::function<boost::asio::awaitable<Response>(Call&)>;
using EventsHandler = std::function<boost::asio::awaitable<void>(Call&, EventStream&)>;

// Routes: a pattern is a path whose segments are literal or "{NAME}" (one segment); a last
// segment "{NAME*}" takes the rest of the path, slashes included (at least one character). The
// first route that matches method and path wins; a path that matches with another method is 405.
// A HEAD request is matched as GET (the server sends the header fields without the content).
class Router {
 public:
  void add(http::verb method, std::string pattern, Handler handler);
  void add_events(std::string pattern, EventsHandler handler);  // GET, streamed

  struct Match {
    const Handler* handler = nullptr;
    const EventsHandler* events = nullptr;
    bool wrong_method = false;
    std::map<std::string, std::string> params;
    std::string allow;  // with wrong_method: the methods the path has, for the Allow field
  };
  Match match(http::verb method, std::string_view path) const;

 private:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;
    bool rest = false;  // the last segment is "{NAME*}"
    Handler handler;
    EventsHandler events;
  };
  std::vector<Route> routes_;
};

}  // namespace hk::console
