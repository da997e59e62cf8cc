// Drain: which transports the stop wakes (those waiting for a command), which the end of the grace
// closes (every session still running), and the reply the woken sessions give.
#include "daemon/server/drain.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>

namespace hk::server {
namespace {

// Counts what the Drain does to it; never does I/O.
class CountingTransport final : public Transport {
 public:
  explicit CountingTransport(asio::io_context& io) : ex_(io.get_executor()) {}
  asio::awaitable<std::string_view> read_some(boost::system::error_code&) override {
    co_return std::string_view{};
  }
  asio::awaitable<boost::system::error_code> write(std::string_view) override {
    co_return boost::system::error_code{};
  }
  asio::awaitable<boost::system::error_code> start_tls(
      std::shared_ptr<asio::ssl::context>) override {
    co_return boost::system::error_code{};
  }
  void abort(std::string_view) override { ++closed; }
  void close() override { ++closed; }
  void cancel() override { ++cancelled; }
  bool tls() const override { return false; }
  std::string tls_version() override { return ""; }
  std::string tls_cipher() override { return ""; }
  const asio::ip::address& remote_address() const override { return addr_; }
  asio::any_io_executor executor() override { return ex_; }

  int cancelled = 0;
  int closed = 0;

 private:
  asio::any_io_executor ex_;
  asio::ip::address addr_;
};

TEST(Drain, StartWakesOnlyTheSessionsWaitingForACommand) {
  asio::io_context io;
  CountingTransport idle(io), busy(io), gone(io);
  Drain drain;
  Drain::Running r1(&drain, idle), r2(&drain, busy);
  std::optional<Drain::Running> r3(std::in_place, &drain, gone);
  Drain::Waiting waiting(&drain, idle);
  {
    Drain::Waiting finished_waiting(&drain, gone);  // read its command: no longer waiting
  }
  r3.reset();  // and its session ended
  EXPECT_EQ(drain.sessions(), 2U);
  EXPECT_FALSE(drain.draining());

  drain.start();
  EXPECT_TRUE(drain.draining());
  EXPECT_EQ(idle.cancelled, 1);
  EXPECT_EQ(busy.cancelled, 0);
  EXPECT_EQ(gone.cancelled, 0);
  EXPECT_EQ(idle.closed + busy.closed + gone.closed, 0);  // the sessions answer and close

  // A session that starts waiting after the stop began is not in the list: it checks
  // draining() first and answers at once.
  drain.cut();
  EXPECT_EQ(idle.closed, 1);
  EXPECT_EQ(busy.closed, 1);
  EXPECT_EQ(gone.closed, 0);
}

TEST(Drain, WithoutADrainNothingIsRegistered) {
  asio::io_context io;
  CountingTransport t(io);
  Drain::Running running(nullptr, t);
  Drain::Waiting waiting(nullptr, t);
  EXPECT_EQ(t.cancelled + t.closed, 0);
}

TEST(Drain, ReplyIs421ServiceShuttingDown) {
  smtp::Reply r = Drain::reply("mx.test");
  EXPECT_EQ(r.wire(), "421 4.3.2 mx.test Service shutting down, try again later\r\n");
  EXPECT_TRUE(r.close);
}

}  // namespace
}  // namespace hk::server
