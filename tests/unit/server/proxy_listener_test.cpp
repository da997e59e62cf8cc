// Tests for a listener behind a load balancer, over real loopback sockets: the PROXY header's
// address is the one trust and the per-address limits see, bytes after the header reach the
// session, a v2 LOCAL keeps the socket's address, and the two refusals (a header from outside
// proxy_networks, no header from inside) answer 421 and close.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "daemon/server/connection.hpp"
#include "daemon/server/listener.hpp"
#include "server_env.hpp"

namespace hk::server::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using tcp = asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

config::Cidr cidr(const char* addr, int prefix) { return {asio::ip::make_address(addr), prefix}; }

std::string v1(const std::string& client) {
  return "PROXY TCP4 " + client + " 127.0.0.1 40000 25\r\n";
}
// v2 PROXY over TCP/IPv4 from 198.51.100.7:40000 to 127.0.0.1:25.
const std::string kV2 =
    "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc6\x33\x64\x07\x7f\x00\x00\x01\x9c\x40\x00\x19"s;
// v2 LOCAL, as HAProxy's health checks send it.
const std::string kV2Local = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00"s;

// One client connection driven by a test coroutine.
class Client {
 public:
  explicit Client(asio::any_io_executor ex) : sock_(ex) {}

  asio::awaitable<void> connect(uint16_t port) {
    co_await sock_.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  }
  asio::awaitable<void> send(std::string data) {
    co_await asio::async_write(sock_, asio::buffer(data), asio::use_awaitable);
  }
  // The next whole reply (every line up to the one with "NNN "), or what came before the server
  // closed, followed by "<closed>".
  asio::awaitable<std::string> reply() {
    for (;;) {
      size_t start = 0;
      for (size_t end; (end = buf_.find("\r\n", start)) != std::string::npos; start = end + 2) {
        if (end - start >= 4 && buf_[start + 3] == ' ') {
          std::string out = buf_.substr(0, end + 2);
          buf_.erase(0, end + 2);
          co_return out;
        }
      }
      char tmp[1024];
      auto [ec, n] = co_await sock_.async_read_some(asio::buffer(tmp), kTuple);
      if (ec) {
        std::string out = buf_ + "<closed>";
        buf_.clear();
        co_return out;
      }
      buf_.append(tmp, n);
    }
  }
  // Sends `line` and returns the reply.
  asio::awaitable<std::string> say(std::string line) {
    co_await send(line + "\r\n");
    co_return co_await reply();
  }

 private:
  tcp::socket sock_;
  std::string buf_;
};

// A listener on 127.0.0.1 port 0 (port 25's rules) over a ServerEnv.
class ProxyListener {
 public:
  explicit ProxyListener(const std::function<void(config::Config&)>& tweak)
      : env(tweak),
        listener(env.io.get_executor(), "127.0.0.1", 0, Port::Smtp, env.deps(), counts) {}

  uint16_t port() const {
    std::string a = listener.local_address();
    return static_cast<uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
  }

  // Runs the test coroutine `client` with the listener accepting; when it ends (its sockets
  // closed), the listener closes and the sessions run out.
  template <class F>
  void run(F client) {
    asio::co_spawn(env.io, listener.accept_loop(), asio::detached);
    bool done = false;
    asio::co_spawn(env.io, client(), [&](std::exception_ptr e) {
      EXPECT_FALSE(e) << "the client threw";
      done = true;
      listener.close();
    });
    env.io.run_for(30s);
    EXPECT_TRUE(done) << "the client did not finish";
  }

  ConnectionCounts counts;  // outlives the sessions, which the io_context ends first
  ServerEnv env;
  Listener listener;
};

bool starts(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(ProxyListener, HeaderAddressDecidesTrust) {
  // 192.0.2.0/24 is trusted (it may relay); the balancer on 127.0.0.1 is not.
  ProxyListener t([](config::Config& c) {
    c.proxy_networks = {cidr("127.0.0.1", 32)};
    c.trusted_networks = {cidr("192.0.2.0", 24)};
  });
  uint16_t port = t.port();
  std::string trusted_rcpt, stranger_rcpt;
  t.run([&]() -> asio::awaitable<void> {
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      co_await c.send(v1("192.0.2.7"));
      EXPECT_TRUE(starts(co_await c.reply(), "220 mx.test"));
      EXPECT_TRUE(starts(co_await c.say("EHLO app.test"), "250"));
      EXPECT_TRUE(starts(co_await c.say("MAIL FROM:<app@example.test>"), "250"));
      trusted_rcpt = co_await c.say("RCPT TO:<someone@remote.test>");
      co_await c.say("QUIT");
    }
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      co_await c.send(kV2);  // 198.51.100.7: a stranger
      EXPECT_TRUE(starts(co_await c.reply(), "220 mx.test"));
      EXPECT_TRUE(starts(co_await c.say("EHLO app.test"), "250"));
      EXPECT_TRUE(starts(co_await c.say("MAIL FROM:<app@example.test>"), "250"));
      stranger_rcpt = co_await c.say("RCPT TO:<someone@remote.test>");
      co_await c.say("QUIT");
    }
  });
  EXPECT_TRUE(starts(trusted_rcpt, "250")) << trusted_rcpt;
  EXPECT_TRUE(starts(stranger_rcpt, "550 5.7.1")) << stranger_rcpt;
  EXPECT_EQ(t.env.metrics.rejected_relay.value(), 1u);
}

TEST(ProxyListener, BytesAfterTheHeaderReachTheSession) {
  ProxyListener t([](config::Config& c) { c.proxy_networks = {cidr("127.0.0.0", 8)}; });
  uint16_t port = t.port();
  t.run([&]() -> asio::awaitable<void> {
    Client c(t.env.io.get_executor());
    co_await c.connect(port);
    // The header in two pieces, then with the first command in the same segment.
    std::string h = v1("192.0.2.7");
    co_await c.send(h.substr(0, 9));
    asio::steady_timer pause(t.env.io, 50ms);
    co_await pause.async_wait(asio::use_awaitable);
    co_await c.send(h.substr(9) + "EHLO app.test\r\n");
    EXPECT_TRUE(starts(co_await c.reply(), "220 mx.test"));
    EXPECT_TRUE(starts(co_await c.reply(), "250-mx.test"));
    co_await c.say("QUIT");
  });
  EXPECT_EQ(t.env.metrics.rejected_proxy_header.value(), 0u);
}

TEST(ProxyListener, LocalKeepsTheSocketAddress) {
  // A health check (v2 LOCAL) is the balancer itself: trusted here because 127.0.0.1 is.
  ProxyListener t([](config::Config& c) {
    c.proxy_networks = {cidr("127.0.0.1", 32)};
    c.trusted_networks = {cidr("127.0.0.1", 32)};
  });
  uint16_t port = t.port();
  std::string rcpt;
  t.run([&]() -> asio::awaitable<void> {
    Client c(t.env.io.get_executor());
    co_await c.connect(port);
    co_await c.send(kV2Local);
    EXPECT_TRUE(starts(co_await c.reply(), "220 mx.test"));
    EXPECT_TRUE(starts(co_await c.say("EHLO lb.test"), "250"));
    EXPECT_TRUE(starts(co_await c.say("MAIL FROM:<app@example.test>"), "250"));
    rcpt = co_await c.say("RCPT TO:<someone@remote.test>");
    co_await c.say("QUIT");
  });
  EXPECT_TRUE(starts(rcpt, "250")) << rcpt;
}

TEST(ProxyListener, PerAddressLimitCountsTheHeaderAddress) {
  ProxyListener t([](config::Config& c) {
    c.proxy_networks = {cidr("127.0.0.1", 32)};
    c.limits.max_connections_per_ip = 1;
  });
  uint16_t port = t.port();
  std::string second, other;
  t.run([&]() -> asio::awaitable<void> {
    Client a(t.env.io.get_executor()), b(t.env.io.get_executor()), c(t.env.io.get_executor());
    co_await a.connect(port);
    co_await a.send(v1("192.0.2.7"));
    EXPECT_TRUE(starts(co_await a.reply(), "220"));
    co_await b.connect(port);
    co_await b.send(v1("192.0.2.7"));
    second = co_await b.reply();
    co_await c.connect(port);
    co_await c.send(v1("192.0.2.8"));
    other = co_await c.reply();
    co_await a.say("QUIT");
    co_await c.say("QUIT");
  });
  EXPECT_TRUE(starts(second, "421 4.7.0 mx.test Too many connections from your address")) << second;
  EXPECT_TRUE(starts(other, "220")) << other;  // one balancer, many clients
  EXPECT_EQ(t.env.metrics.rejected_connections_per_ip.value(), 1u);
}

TEST(ProxyListener, HeaderFromOutsideProxyNetworksIsRefused) {
  ProxyListener t([](config::Config& c) { c.proxy_networks = {cidr("10.0.0.0", 8)}; });
  uint16_t port = t.port();
  std::string v1_answer, v2_answer;
  t.run([&]() -> asio::awaitable<void> {
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      EXPECT_TRUE(starts(co_await c.reply(), "220"));
      co_await c.send(v1("192.0.2.7"));
      v1_answer = co_await c.reply();
      v1_answer += co_await c.reply();
    }
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      EXPECT_TRUE(starts(co_await c.reply(), "220"));
      co_await c.send(kV2);
      v2_answer = co_await c.reply();
      v2_answer += co_await c.reply();
    }
  });
  for (const std::string& answer : {v1_answer, v2_answer}) {
    EXPECT_TRUE(starts(answer, "421 4.7.0 PROXY protocol header not accepted")) << answer;
    EXPECT_NE(answer.find("\r\n<closed>"), std::string::npos) << answer;  // and nothing else
  }
  EXPECT_EQ(t.env.metrics.rejected_proxy_header.value(), 2u);
}

TEST(ProxyListener, NoHeaderFromProxyNetworksIsRefused) {
  ProxyListener t([](config::Config& c) { c.proxy_networks = {cidr("127.0.0.1", 32)}; });
  uint16_t port = t.port();
  std::string answer, bad;
  t.run([&]() -> asio::awaitable<void> {
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      answer = co_await c.say("EHLO direct.test");
      answer += co_await c.reply();
    }
    {
      Client c(t.env.io.get_executor());
      co_await c.connect(port);
      co_await c.send("PROXY TCP4 192.0.2.300 127.0.0.1 1 25\r\n");
      bad = co_await c.reply();
      bad += co_await c.reply();
    }
  });
  for (const std::string& a : {answer, bad}) {
    EXPECT_TRUE(starts(a, "421 4.7.0 mx.test PROXY protocol header required")) << a;
    EXPECT_NE(a.find("\r\n<closed>"), std::string::npos) << a;
    EXPECT_EQ(a.find("220"), std::string::npos) << a;  // no session was started
  }
  EXPECT_EQ(t.env.metrics.rejected_proxy_header.value(), 2u);
  EXPECT_EQ(t.counts.total, 0u);
}

// Connection::read_proxy_header on its own, over a loopback socket pair.
class ProxyConnection : public ::testing::Test {
 protected:
  // Runs `server` on the accepted side of a new connection while `client` writes to the other.
  template <class Server, class ClientSide>
  void run(Server server, ClientSide client) {
    tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket c(io_);
    c.connect(acceptor.local_endpoint());
    Connection conn(acceptor.accept());
    bool done = false;
    asio::co_spawn(io_, server(conn), [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      done = true;
    });
    asio::co_spawn(io_, client(c), asio::detached);
    io_.run_for(10s);
    io_.restart();
    EXPECT_TRUE(done);
  }

  asio::io_context io_;
};

TEST_F(ProxyConnection, SilenceEndsAtTheLimit) {
  ProxyRead got;
  auto start = std::chrono::steady_clock::now();
  run(
      [&](Connection& conn) -> asio::awaitable<void> {
        got = co_await conn.read_proxy_header(200ms);
      },
      [](tcp::socket&) -> asio::awaitable<void> { co_return; });
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(got.header);
  EXPECT_EQ(got.error, "no header in time");
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 5s);
}

TEST_F(ProxyConnection, DribbledV2HeaderLeavesTheRestUnread) {
  ProxyRead got;
  std::string after;
  run(
      [&](Connection& conn) -> asio::awaitable<void> {
        got = co_await conn.read_proxy_header(5s);
        boost::system::error_code ec;
        std::string_view rest = co_await conn.read_some(ec);
        after = std::string(rest);
      },
      [&](tcp::socket& c) -> asio::awaitable<void> {
        for (char ch : kV2) {  // one octet per segment
          co_await asio::async_write(c, asio::buffer(&ch, 1), asio::use_awaitable);
          asio::steady_timer pause(io_, 2ms);
          co_await pause.async_wait(asio::use_awaitable);
        }
        co_await asio::async_write(c, asio::buffer(std::string("EHLO x\r\n")), asio::use_awaitable);
      });
  ASSERT_TRUE(got.header) << got.error;
  EXPECT_EQ(got.header->version, 2);
  EXPECT_EQ(after, "EHLO x\r\n");
}

TEST_F(ProxyConnection, HeaderAddressReplacesTheSocketAddress) {
  ProxyRead got;
  std::string v4, v6;
  run(
      [&](Connection& conn) -> asio::awaitable<void> {
        EXPECT_EQ(conn.remote_address().to_string(), "127.0.0.1");
        got = co_await conn.read_proxy_header(5s);
        v4 = conn.remote_address().to_string();
      },
      [](tcp::socket& c) -> asio::awaitable<void> {
        // An IPv4 client named as IPv4-mapped IPv6 is known by its IPv4 address.
        co_await asio::async_write(
            c, asio::buffer(std::string("PROXY TCP6 ::ffff:192.0.2.7 ::1 40000 25\r\n")),
            asio::use_awaitable);
      });
  ASSERT_TRUE(got.header) << got.error;
  EXPECT_EQ(v4, "192.0.2.7");
  run(
      [&](Connection& conn) -> asio::awaitable<void> {
        got = co_await conn.read_proxy_header(5s);
        v6 = conn.remote_address().to_string();
      },
      [](tcp::socket& c) -> asio::awaitable<void> {
        co_await asio::async_write(
            c, asio::buffer(std::string("PROXY TCP6 2001:db8::5 ::1 40000 25\r\n")),
            asio::use_awaitable);
      });
  EXPECT_EQ(v6, "2001:db8::5");
}

}  // namespace
}  // namespace hk::server::test
