// Tests for the metrics endpoint on 127.0.0.1, port 0, driven by curl and by a raw socket for
// what curl will not send: the page for GET, headers only for HEAD, 404 and 405, keep-alive and
// HTTP/1.0, concurrent scrapes while another connection sits idle, the size and time bounds, the
// connection limit, and promtool's check of a scrape.
#include "lib/metrics/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "lib/metrics/registry.hpp"

namespace hk::metrics {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Ran {
  int status = -1;  // the exit status, -1 when the command did not exit normally
  std::string out;  // what it wrote on stdout
};

// Runs `command` with /bin/sh and collects its standard output.
Ran run(const std::string& command) {
  Ran r;
  FILE* f = popen(command.c_str(), "r");
  if (f == nullptr) {
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    r.out.append(buf, n);
  }
  int st = pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A plain blocking TCP client to 127.0.0.1: sends bytes as they are and reads with a deadline.
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
  void send(const std::string& s) {
    EXPECT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
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
        return true;  // closed (or reset: closed as well, for these tests)
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }

  // Reads until `out` holds `needle`; false after `limit`.
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

class EndpointTest : public ::testing::Test {
 protected:
  // Serves `page`, counting the scrapes.
  void start(std::string page, Endpoint::Options opts = {}) {
    page_ = std::move(page);
    start_with(
        [this] {
          ++renders_;
          return page_;
        },
        opts);
  }

  void start_with(Endpoint::Render render, Endpoint::Options opts = {}) {
    endpoint_ =
        std::make_unique<Endpoint>(io_.get_executor(), "127.0.0.1", 0, std::move(render), opts);
    port_ = endpoint_->local_endpoint().port();
    asio::co_spawn(io_, endpoint_->run(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] { endpoint_->close(); });
      work_.reset();
      io_.stop();
      thread_.join();
    }
  }

  std::string url(const std::string& path = "/metrics") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // curl, bounded in time, quiet; `args` go before the URL.
  std::string curl(const std::string& args, const std::string& path = "/metrics") const {
    return "curl -s --max-time 10 " + args + " '" + url(path) + "'";
  }

  Registry reg_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<Endpoint> endpoint_;
  std::thread thread_;
  std::string page_;
  std::atomic<int> renders_{0};
  uint16_t port_ = 0;
};

constexpr const char* kPage = "# TYPE hk_up gauge\nhk_up 1\n";

TEST_F(EndpointTest, GetServesThePage) {
  start(kPage);
  Ran r = run(curl("-i"));
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Content-Length: " + std::to_string(std::string(kPage).size()) + "\r\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.substr(r.out.find("\r\n\r\n") + 4), kPage);
  EXPECT_EQ(renders_, 1);
}

TEST_F(EndpointTest, QueryStringIsIgnored) {
  start(kPage);
  Ran r = run(curl("", "/metrics?module=hikyaku"));
  EXPECT_EQ(r.out, kPage);
}

TEST_F(EndpointTest, HeadSendsTheHeaderFieldsOnly) {
  start(kPage);
  // Pipelined on one connection: were a body sent after the HEAD response, it would stand
  // where the second status line must be.
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.send(
      "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string got;
  ASSERT_TRUE(c.read_to_end(got, 5000ms)) << got;
  size_t second = got.find("\r\n\r\n") + 4;
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.substr(0, second).find(
                "Content-Length: " + std::to_string(std::string(kPage).size()) + "\r\n"),
            std::string::npos)
      << got;
  EXPECT_EQ(got.compare(second, 17, "HTTP/1.1 200 OK\r\n"), 0) << got;
  EXPECT_EQ(got.substr(got.rfind("\r\n\r\n") + 4), kPage);
  EXPECT_EQ(renders_, 2);
}

TEST_F(EndpointTest, OtherPathsAreNotFound) {
  start(kPage);
  for (const char* path : {"/", "/metricsx", "/metrics/", "/Metrics", "/favicon.ico"}) {
    Ran r = run(curl("-o /dev/null -w '%{http_code}'", path));
    EXPECT_EQ(r.out, "404") << path;
  }
  // Whatever the method: the path is looked at first.
  EXPECT_EQ(run(curl("-X POST -o /dev/null -w '%{http_code}'", "/other")).out, "404");
  EXPECT_EQ(renders_, 0);
}

TEST_F(EndpointTest, OtherMethodsAreNotAllowed) {
  start(kPage);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    Ran r = run(curl(std::string("-i -X ") + method));
    EXPECT_EQ(r.out.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << method << r.out;
    EXPECT_NE(r.out.find("Allow: GET, HEAD\r\n"), std::string::npos) << method << r.out;
  }
  EXPECT_EQ(renders_, 0);
}

TEST_F(EndpointTest, KeepsConnectionsAlive) {
  start(kPage);
  // %{num_connects} is the number of new connections each transfer needed.
  Ran r = run(curl("-o /dev/null -o /dev/null -o /dev/null -w '%{num_connects} '") + " '" + url() +
              "' '" + url() + "'");
  EXPECT_EQ(r.out, "1 0 0 ");
  EXPECT_EQ(renders_, 3);
}

TEST_F(EndpointTest, Http10ClosesAfterEachResponse) {
  start(kPage);
  Ran r = run(curl("-0 -o /dev/null -o /dev/null -w '%{num_connects} '") + " '" + url() + "'");
  EXPECT_EQ(r.out, "1 1 ");
  Ran one = run(curl("-0 -i"));
  EXPECT_EQ(one.out.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << one.out;
}

TEST_F(EndpointTest, ScrapesConcurrently) {
  // A page large enough to take several writes, so that the responses interleave.
  std::string page;
  for (int i = 0; page.size() < 2'000'000; ++i) {
    page += "hk_series_total{n=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
  }
  start(page);
  // A connection that says nothing holds its coroutine; the others must not wait for it.
  RawClient idle(port_);
  ASSERT_TRUE(idle.connected());
  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  slow.send("GET /metrics HTTP/1.1\r\nHost: t\r\n");  // a request still arriving
  Ran r =
      run("seq 8 | xargs -P 8 -I{} " + curl("-o /dev/null -w '%{http_code} %{size_download}\\n'"));
  std::string expect;
  for (int i = 0; i < 8; ++i) {
    expect += "200 " + std::to_string(page.size()) + "\n";
  }
  EXPECT_EQ(r.out, expect);
  EXPECT_EQ(renders_, 8);
  // The slow request, once complete, is still answered.
  slow.send("Connection: close\r\n\r\n");
  std::string got;
  ASSERT_TRUE(slow.read_to_end(got, 10000ms));
  EXPECT_EQ(got.size() - (got.find("\r\n\r\n") + 4), page.size());
}

TEST_F(EndpointTest, ClosesSilentAndSlowConnectionsAtTheTimeout) {
  Endpoint::Options opts;
  opts.timeout = 300ms;
  start(kPage, opts);
  RawClient silent(port_);
  RawClient partial(port_);
  RawClient kept(port_);
  ASSERT_TRUE(silent.connected() && partial.connected() && kept.connected());
  partial.send("GET /metrics HTTP/1.1\r\nHost: t\r\n");
  kept.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  auto begin = std::chrono::steady_clock::now();
  std::string a, b, c;
  EXPECT_TRUE(silent.read_to_end(a, 5000ms));
  EXPECT_TRUE(partial.read_to_end(b, 5000ms));
  // A kept-alive connection gets its answer, then the same time for its next request.
  EXPECT_TRUE(kept.read_to_end(c, 5000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_EQ(a, "");
  EXPECT_EQ(b, "");
  EXPECT_EQ(c.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << c;
}

TEST_F(EndpointTest, BoundsTheRequest) {
  start(kPage);
  // Header fields past 8 KiB: 431 (RFC 6585 §5), and the connection is closed.
  Ran big = run(curl("-o /dev/null -w '%{http_code}' -H 'X-Big: " + std::string(9000, 'a') + "'"));
  EXPECT_EQ(big.out, "431");
  // A scrape has no content.
  Ran body = run(curl("-X GET -d x -o /dev/null -w '%{http_code}'"));
  EXPECT_EQ(body.out, "413");
  EXPECT_EQ(renders_, 0);
}

TEST_F(EndpointTest, MalformedRequestsAreBadRequests) {
  start(kPage);
  for (const char* junk : {"BLAH\r\n\r\n", "GET /metrics HTTP/9.9\r\n\r\n",
                           "GET /metrics HTTP/1.1\r\nNo colon\r\n\r\n"}) {
    RawClient c(port_);
    ASSERT_TRUE(c.connected());
    c.send(junk);
    std::string got;
    EXPECT_TRUE(c.read_to_end(got, 5000ms)) << junk;
    EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << junk << got;
  }
  EXPECT_EQ(renders_, 0);
}

TEST_F(EndpointTest, LimitsOpenConnections) {
  Endpoint::Options opts;
  opts.max_connections = 2;
  start(kPage, opts);
  // Two kept-alive connections, each answered once so that both are surely being served.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawClient>(port_));
    held.back()->send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string got;
    ASSERT_TRUE(held.back()->read_until(got, kPage, 5000ms)) << got;
  }
  Ran refused = run(curl("-o /dev/null -w '%{http_code}'"));
  EXPECT_NE(refused.status, 0);
  EXPECT_EQ(refused.out, "000");
  held.pop_back();
  // The server notices the close on its next read; retry for a moment.
  std::string code;
  for (int i = 0; i < 50 && code != "200"; ++i) {
    std::this_thread::sleep_for(20ms);
    code = run(curl("-o /dev/null -w '%{http_code}'")).out;
  }
  EXPECT_EQ(code, "200");
}

bool have_promtool() { return run("command -v promtool >/dev/null 2>&1").status == 0; }

TEST_F(EndpointTest, PromtoolAcceptsAScrape) {
  if (!have_promtool()) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  reg_.counter("hk_rejected_total", "Rejected, by reason.", {{"reason", "relay"}}).inc(3);
  reg_.counter("hk_rejected_total", "Rejected, by reason.", {{"reason", "a \"quoted\\\" one"}});
  reg_.gauge("hk_queue_size", "Messages in the queue.").set(12);
  Histogram& h = reg_.histogram("hk_delivery_duration_seconds", "Delivery attempts.",
                                duration_buckets(), {{"via", "mx"}});
  h.observe(0.3);
  h.observe(42);
  start_with([this] { return reg_.render(); });
  Ran ok = run(curl("-f") + " | promtool check metrics 2>&1");
  EXPECT_EQ(ok.status, 0) << ok.out;
  // The check can fail: a counter without _total and without HELP is reported.
  Ran bad = run("printf '# TYPE hk_bad counter\\nhk_bad 1\\n' | promtool check metrics 2>&1");
  EXPECT_NE(bad.status, 0) << bad.out;
}

}  // namespace
}  // namespace hk::metrics
