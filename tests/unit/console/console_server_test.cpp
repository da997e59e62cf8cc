// Tests for the ConsoleServer on 127.0.0.1, port 0, driven by a raw socket: routes and the
// default header fields, keep-alive, 404/405, HEAD, the bounds on header and body (and that the
// server still answers after them), the Host check, the CSRF rule, server-sent events with
// pings, the per-address connection bound, and close() ending idle connections and streams.
// (The remote-client rules need another address than loopback: t-49-console-security.)
#include "daemon/console/console_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace hk::console {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything received until the peer closes (true) or `limit` passes (false).
  bool read_to_end(std::string& out, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        return true;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `out` holds `needle`; false after `limit` or when the peer closes.
  bool read_until(std::string& out, const std::string& needle, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (out.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        return false;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

 private:
  int fd_;
  bool connected_ = false;
};

class ConsoleServerTest : public ::testing::Test {
 protected:
  void start(ConsoleServer::Limits limits = {}) {
    Router router;
    router.add(http::verb::get, "/hello", [](Call& call) -> asio::awaitable<Response> {
      co_return make_response(call, http::status::ok, "text/plain", "hello " + call.path);
    });
    router.add(http::verb::get, "/", [](Call& call) -> asio::awaitable<Response> {
      co_return make_response(call, http::status::ok, "text/html", "<meta name=csrf-token>");
    });
    router.add(http::verb::get, "/own-csp", [](Call& call) -> asio::awaitable<Response> {
      Response res = make_response(call, http::status::ok, "text/html", "<p>x</p>");
      res.set("Content-Security-Policy", "sandbox");
      co_return res;
    });
    router.add(http::verb::get, "/item/{ID}", [](Call& call) -> asio::awaitable<Response> {
      co_return json_response(call, "{\"id\":\"" + call.params.at("ID") + "\",\"q\":\"" +
                                        (call.query.count("q") ? call.query.at("q") : "") + "\"}");
    });
    router.add(http::verb::post, "/change", [](Call& call) -> asio::awaitable<Response> {
      co_return make_response(call, http::status::ok, "text/plain",
                              "changed " + std::to_string(call.req.body().size()));
    });
    router.add(http::verb::get, "/slow", [](Call& call) -> asio::awaitable<Response> {
      asio::steady_timer t(co_await asio::this_coro::executor, 30s);
      co_await t.async_wait(asio::use_awaitable);  // cancelled by close()
      co_return make_response(call, http::status::ok, "text/plain", "late");
    });
    router.add_events("/events", [](Call&, EventStream& es) -> asio::awaitable<void> {
      if (!co_await es.send("new", "{\"ID\":\"1\"}\n{\"ID\":\"2\"}")) {
        co_return;
      }
      asio::steady_timer t(co_await asio::this_coro::executor, 60s);
      co_await t.async_wait(asio::use_awaitable);
    });
    router.add_events("/burst", [](Call&, EventStream& es) -> asio::awaitable<void> {
      // Large events back to back while pings (every millisecond here) want the stream too.
      for (int i = 0; i < 200; ++i) {
        if (!co_await es.send("n", std::to_string(i) + ":" + std::string(10000, 'x'))) {
          co_return;
        }
      }
      co_await es.send("end", "done");
      asio::steady_timer t(co_await asio::this_coro::executor, 60s);
      co_await t.async_wait(asio::use_awaitable);
    });
    if (limits.ping_interval == ConsoleServer::Limits{}.ping_interval) {
      limits.ping_interval = 200ms;
    }
    server_ = std::make_unique<ConsoleServer>(
        io_.get_executor(), pool_, std::vector<ConsoleServer::Address>{{"127.0.0.1", 0}},
        std::move(router), ConsoleServer::Hooks{}, ConsoleServer::Settings{}, limits);
    port_ = server_->local_endpoints().at(0).port();
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] { server_->close(); });
      std::this_thread::sleep_for(50ms);
      io_.stop();
      thread_.join();
    }
  }
  void close_server() {
    std::promise<void> done;
    asio::post(io_, [&] {
      server_->close();
      done.set_value();
    });
    done.get_future().wait();
  }
  // One request on a new connection, the whole answer (the request asks to close).
  std::string exchange(const std::string& request) {
    RawClient c(port_);
    EXPECT_TRUE(c.connected());
    c.send(request);
    std::string out;
    EXPECT_TRUE(c.read_to_end(out, 5s));
    return out;
  }

  asio::io_context io_{1};
  asio::thread_pool pool_{1};
  std::unique_ptr<ConsoleServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

bool has_security_headers(const std::string& response) {
  return response.find("Content-Security-Policy: default-src 'self'; script-src 'self';") !=
             std::string::npos &&
         response.find("X-Content-Type-Options: nosniff\r\n") != std::string::npos &&
         response.find("Referrer-Policy: no-referrer\r\n") != std::string::npos &&
         response.find("X-Frame-Options: DENY\r\n") != std::string::npos &&
         response.find("Cache-Control: no-store\r\n") != std::string::npos;
}

TEST_F(ConsoleServerTest, ServesRoutesWithSecurityHeaders) {
  start();
  std::string r = exchange("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_TRUE(has_security_headers(r)) << r;
  EXPECT_NE(r.find("\r\n\r\nhello /hello"), std::string::npos) << r;

  r = exchange(
      "GET /item/a%20b?q=x+y%21 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("{\"id\":\"a b\",\"q\":\"x y!\"}"), std::string::npos) << r;

  // A handler's own policy is kept; the other fields are added.
  r = exchange("GET /own-csp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("Content-Security-Policy: sandbox\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("X-Frame-Options: DENY\r\n"), std::string::npos) << r;

  r = exchange("GET /nothing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404 ", 0), 0u) << r;
  EXPECT_TRUE(has_security_headers(r)) << r;

  r = exchange("DELETE /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 405 ", 0), 0u) << r;
  EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos) << r;

  r = exchange("HEAD /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 12\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("hello"), std::string::npos) << r;

  r = exchange("GET /a%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 400 ", 0), 0u) << r;
}

TEST_F(ConsoleServerTest, KeepAliveAndPipelining) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.send(
      "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\nGET /item/7 HTTP/1.1\r\nHost: "
      "localhost\r\n\r\n");
  std::string out;
  ASSERT_TRUE(c.read_until(out, "{\"id\":\"7\"", 5s)) << out;
  EXPECT_NE(out.find("hello /hello"), std::string::npos);
  c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  out.clear();
  EXPECT_TRUE(c.read_to_end(out, 5s));
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
}

TEST_F(ConsoleServerTest, HostCheck) {
  start();
  std::string r =
      exchange("GET /hello HTTP/1.1\r\nHost: evil.example:8025\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 403 ", 0), 0u) << r;
  EXPECT_NE(r.find("[console] hostnames"), std::string::npos) << r;
  EXPECT_TRUE(has_security_headers(r)) << r;
  r = exchange("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");  // no Host at all
  EXPECT_EQ(r.rfind("HTTP/1.1 403 ", 0), 0u) << r;
  r = exchange("GET /hello HTTP/1.1\r\nHost: [::1]:8025\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
}

TEST_F(ConsoleServerTest, CsrfRule) {
  start();
  const std::string body = "{\"IDs\":[]}";
  auto post = [&](const std::string& extra) {
    return exchange("POST /change HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + extra +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  EXPECT_EQ(post("").rfind("HTTP/1.1 200 ", 0), 0u);  // curl-like: no browser fields
  std::string r = post("Origin: http://evil.example\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 403 ", 0), 0u) << r;
  EXPECT_NE(r.find("X-CSRF-Token"), std::string::npos) << r;
  EXPECT_EQ(post("Sec-Fetch-Site: cross-site\r\nX-CSRF-Token: nope\r\n").rfind("HTTP/1.1 403 ", 0),
            0u);
  r = post("Origin: http://evil.example\r\nX-CSRF-Token: " + server_->csrf_token() + "\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
  EXPECT_NE(r.find("changed 10"), std::string::npos) << r;
  EXPECT_EQ(server_->csrf_token().size(), 64u);
  // GET / gives the token as a header field too; other pages do not.
  r = exchange("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("X-CSRF-Token: " + server_->csrf_token() + "\r\n"), std::string::npos) << r;
  r = exchange("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.find("X-CSRF-Token"), std::string::npos) << r;
  r = exchange("GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.find("X-CSRF-Token"), std::string::npos) << r;  // not past the gate
}

TEST_F(ConsoleServerTest, RequestBounds) {
  ConsoleServer::Limits limits;
  limits.max_header = 1024;
  limits.max_body = 4096;
  start(limits);
  std::string r = exchange(
      "GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 431 ", 0), 0u) << r;
  EXPECT_TRUE(has_security_headers(r)) << r;
  // The declared length is refused before any of the content is read.
  r = exchange("POST /change HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 413 ", 0), 0u) << r;
  // Chunked content over the limit too.
  RawClient c(port_);
  c.send("POST /change HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 5 && c.send("400\r\n" + std::string(1024, 'x') + "\r\n"); ++i) {
  }
  std::string out;
  c.read_to_end(out, 5s);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out;
  // Within the limits, after all that, the server still answers.
  r = exchange(
      "POST /change HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: "
      "4096\r\n\r\n" +
      std::string(4096, 'y'));
  EXPECT_NE(r.find("changed 4096"), std::string::npos) << r;
  // Expect: 100-continue is answered before the content is sent.
  RawClient e(port_);
  e.send(
      "POST /change HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nExpect: "
      "100-continue\r\nContent-Length: 3\r\n\r\n");
  out.clear();
  ASSERT_TRUE(e.read_until(out, "HTTP/1.1 100 Continue\r\n", 5s)) << out;
  e.send("abc");
  EXPECT_TRUE(e.read_to_end(out, 5s));
  EXPECT_NE(out.find("changed 3"), std::string::npos) << out;
}

TEST_F(ConsoleServerTest, SilentClientTimesOut) {
  ConsoleServer::Limits limits;
  limits.timeout = 300ms;
  start(limits);
  RawClient c(port_);
  c.send("GET /hello HTTP/1.1\r\n");  // never finished
  std::string out;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.read_to_end(out, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(ConsoleServerTest, ServerSentEvents) {
  start();
  RawClient c(port_);
  c.send("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
  std::string out;
  ASSERT_TRUE(c.read_until(out, "data: {\"ID\":\"2\"}\n\n", 5s)) << out;
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/event-stream"), std::string::npos) << out;
  EXPECT_TRUE(has_security_headers(out)) << out;
  EXPECT_NE(out.find("event: new\ndata: {\"ID\":\"1\"}\ndata: {\"ID\":\"2\"}\n\n"),
            std::string::npos)
      << out;
  // Pings every ping_interval (200 ms here).
  size_t before = out.size();
  ASSERT_TRUE(c.read_until(out, ": ping\n\n", 3s));
  out.erase(0, before);
  std::string more;
  ASSERT_TRUE(c.read_until(more, ": ping\n\n", 3s)) << more;
  // The daemon stops: the stream ends at once.
  close_server();
  std::string rest;
  EXPECT_TRUE(c.read_to_end(rest, 3s));
}

TEST_F(ConsoleServerTest, EventsAndPingsNeverInterleave) {
  ConsoleServer::Limits limits;
  limits.ping_interval = 1ms;
  start(limits);
  RawClient c(port_);
  c.send("GET /burst HTTP/1.1\r\nHost: localhost\r\n\r\n");
  std::string out;
  ASSERT_TRUE(c.read_until(out, "event: end\ndata: done\n\n", 10s)) << out.size();
  std::string body = out.substr(out.find("\r\n\r\n") + 4);
  // Split into frames; each is a ping or a whole event, the events in order.
  int next = 0;
  size_t pings = 0;
  for (size_t pos = 0; pos < body.size();) {
    size_t end = body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    std::string frame = body.substr(pos, end - pos);
    pos = end + 2;
    if (frame == ": ping") {
      ++pings;
    } else if (frame == "event: end\ndata: done") {
      break;
    } else {
      ASSERT_EQ(frame, "event: n\ndata: " + std::to_string(next) + ":" + std::string(10000, 'x'))
          << "frame " << next;
      ++next;
    }
  }
  EXPECT_EQ(next, 200);
  EXPECT_GT(pings, 0u);
}

TEST_F(ConsoleServerTest, CloseEndsIdleAndWaitingConnections) {
  start();
  RawClient idle(port_);
  RawClient slow(port_);
  ASSERT_TRUE(idle.connected());
  slow.send("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  close_server();
  std::string out;
  EXPECT_TRUE(idle.read_to_end(out, 3s));
  std::string s;
  EXPECT_TRUE(slow.read_to_end(s, 3s));
  EXPECT_EQ(s.rfind("HTTP/1.1 503 ", 0), 0u) << s;
  // No more accepting.
  RawClient late(port_);
  std::string l;
  EXPECT_TRUE(!late.connected() || late.read_to_end(l, 3s));
}

TEST_F(ConsoleServerTest, ConnectionsPerAddressAreBounded) {
  ConsoleServer::Limits limits;
  limits.max_connections_per_address = 3;
  start(limits);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
  }
  std::this_thread::sleep_for(100ms);
  RawClient extra(port_);
  std::string out;
  extra.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_TRUE(extra.read_to_end(out, 3s));  // closed at once, unanswered
  EXPECT_EQ(out, "");
  idle.pop_back();  // one slot frees
  std::this_thread::sleep_for(100ms);
  std::string r = exchange("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 ", 0), 0u) << r;
}

}  // namespace
}  // namespace hk::console
