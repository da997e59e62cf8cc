// Resolver failure paths that need no zone: timeouts against a socket that never answers,
// unreachable servers, failover, server lists, and every way a pending lookup can be cancelled.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

#include "lib/dns/mx.hpp"
#include "lib/dns/resolver.hpp"
#include "options.hpp"
#include "tests/support/dns_servers.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/run.hpp"

namespace hk::dns {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using hk::test::drain;
using hk::test::run;
using test::options;

TEST(ResolverTest, TimeoutIsBounded) {
  test::SilentServer silent;
  asio::io_context io;
  Resolver resolver(io.get_executor(), options(silent.server(), 200ms, 1));
  auto start = Clock::now();
  auto a = run(io, resolver.mx("example.test"));
  auto took = Clock::now() - start;
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ec, Error::Timeout) << a->ec.message();
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(mx_plan(*a), MxPlan::TransientError);
}

TEST(ResolverTest, ClosedPortIsUnreachable) {
  unsigned short port = hk::test::free_port();  // nothing listens there
  asio::io_context io;
  Resolver resolver(io.get_executor(), options("127.0.0.1:" + std::to_string(port), 500ms, 1));
  auto start = Clock::now();
  auto a = run(io, resolver.mx("example.test"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ec, Error::Unreachable) << a->ec.message();
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(ResolverTest, BadServerThrows) {
  asio::io_context io;
  EXPECT_THROW(Resolver(io.get_executor(), options("not an address")), std::runtime_error);
}

TEST(ResolverTest, AttemptsAreRepeated) {
  // Two tries of 200 ms (c-ares doubles the second): clearly longer than one.
  test::SilentServer silent;
  asio::io_context io;
  Resolver resolver(io.get_executor(), options(silent.server(), 200ms, 2));
  auto start = Clock::now();
  auto a = run(io, resolver.mx("example.test"));
  auto took = Clock::now() - start;
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ec, Error::Timeout) << a->ec.message();
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 3s);
}

TEST(ResolverTest, FailsOverToTheNextServer) {
  test::Dnsmasq dnsmasq;
  ASSERT_NE(dnsmasq.port(), 0);
  asio::io_context io;
  Resolver::Options o = options(dnsmasq.server(), 1000ms, 2);
  o.servers.insert(o.servers.begin(), "127.0.0.1:" + std::to_string(hk::test::free_port()));
  Resolver resolver(io.get_executor(), o);
  auto a = run(io, resolver.mx("example.test"));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->ec) << a->ec.message();
  EXPECT_EQ(a->records.size(), 3U);
}

TEST(ResolverTest, ServerListForms) {
  asio::io_context io;
  for (const char* s : {"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"}) {
    EXPECT_NO_THROW(Resolver(io.get_executor(), options(s))) << s;
  }
  Resolver::Options two;
  two.servers = {"127.0.0.1:5353", "[::1]:53"};
  EXPECT_NO_THROW(Resolver(io.get_executor(), two));
}

asio::awaitable<std::optional<Answer<MxRecord>>> mx_with_deadline(Resolver& r, std::string name,
                                                                  std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto lookup = r.mx(std::move(name));
  auto expiry = timer.async_wait(asio::use_awaitable);
  std::variant<Answer<MxRecord>, std::monostate> won =
      co_await (std::move(lookup) || std::move(expiry));
  if (won.index() == 0) {
    co_return std::get<0>(std::move(won));
  }
  co_return std::nullopt;
}

TEST(ResolverCancelTest, DeadlineCancelsTheLookup) {
  test::SilentServer silent;
  asio::io_context io;
  Resolver resolver(io.get_executor(), options(silent.server(), 700ms, 1));
  auto start = Clock::now();
  auto a = run(io, mx_with_deadline(resolver, "example.test", 50ms));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());  // the timer won
  EXPECT_LT(Clock::now() - start, 500ms);
  // c-ares times the query out later and calls back into the cancelled Query: dropped quietly.
  drain(io, 1000ms);
  // The Resolver still works after that.
  auto b = run(io, resolver.mx("example.test"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ec, Error::Timeout);
}

TEST(ResolverCancelTest, CancellationSignal) {
  test::SilentServer silent;
  asio::io_context io;
  Resolver resolver(io.get_executor(), options(silent.server(), 700ms, 1));
  asio::cancellation_signal signal;
  std::optional<Answer<MxRecord>> result;
  asio::co_spawn(io, resolver.mx("example.test"),
                 asio::bind_cancellation_slot(signal.slot(),
                                              [&result](std::exception_ptr e, Answer<MxRecord> a) {
                                                if (!e) {
                                                  result = std::move(a);
                                                }
                                              }));
  asio::steady_timer timer(io, 30ms);
  timer.async_wait([&signal](const boost::system::error_code&) {
    signal.emit(asio::cancellation_type::terminal);
    signal.emit(asio::cancellation_type::terminal);  // a second request is harmless
  });
  auto start = Clock::now();
  io.run_for(300ms);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, Error::Cancelled);
  EXPECT_LT(Clock::now() - start, 300ms + 50ms);
  drain(io, 1000ms);
}

TEST(ResolverCancelTest, CancelAllEndsEveryLookup) {
  test::SilentServer silent;
  asio::io_context io;
  Resolver resolver(io.get_executor(), options(silent.server(), 5000ms, 1));
  std::vector<boost::system::error_code> results;
  for (const char* name : {"a.test", "b.test", "c.test"}) {
    asio::co_spawn(io, resolver.mx(name), [&results](std::exception_ptr e, Answer<MxRecord> a) {
      if (!e) {
        results.push_back(a.ec);
      }
    });
  }
  asio::steady_timer timer(io, 50ms);
  timer.async_wait([&resolver](const boost::system::error_code&) { resolver.cancel_all(); });
  auto start = Clock::now();
  io.run_for(2s);
  EXPECT_LT(Clock::now() - start, 1s);  // no work left once cancelled
  ASSERT_EQ(results.size(), 3U);
  for (const auto& ec : results) {
    EXPECT_EQ(ec, Error::Cancelled) << ec.message();
  }
}

TEST(ResolverCancelTest, DestroyingTheResolverCancelsLookups) {
  test::SilentServer silent;
  asio::io_context io;
  auto resolver = std::make_unique<Resolver>(io.get_executor(), options(silent.server(), 5000ms));
  std::optional<Answer<MxRecord>> result;
  asio::co_spawn(io, resolver->mx("example.test"),
                 [&result](std::exception_ptr e, Answer<MxRecord> a) {
                   if (!e) {
                     result = std::move(a);
                   }
                 });
  io.run_for(50ms);
  EXPECT_FALSE(result);
  resolver.reset();
  io.restart();
  io.run_for(1s);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->ec, Error::Cancelled);
}

}  // namespace
}  // namespace hk::dns
