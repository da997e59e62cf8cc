// Tests for what the console asks of the running queue: Queue::remove (refused while an attempt
// is in flight, unknown and malformed IDs, removed with no DSN and no further attempt), and the
// delivery log the runner feeds (deferred, delivered, bounced, expired, the DSN, the route).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "daemon/queue/delivery_log.hpp"
#include "daemon/queue/queue.hpp"
#include "lib/base/clock.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace asio = boost::asio;
using hk::test::run;
using std::chrono::seconds;
using Status = DeliveryResult::Status;

// Answers with the next status of its script (the last repeats); each call takes `delay`.
class ScriptCourier final : public Courier {
 public:
  ScriptCourier(std::vector<Status> script, Route route)
      : script_(std::move(script)), route_(route) {}

  asio::awaitable<std::vector<DeliveryResult>> deliver(const Envelope&,
                                                       const std::vector<const Recipient*>& rcpts,
                                                       const std::string&) override {
    Status s = script_[std::min(calls, script_.size() - 1)];
    ++calls;
    if (delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
    }
    std::vector<DeliveryResult> out;
    for (size_t i = 0; i < rcpts.size(); ++i) {
      out.push_back(s == Status::Delivered   ? DeliveryResult{s, 250, "2.0.0", "ok"}
                    : s == Status::Transient ? DeliveryResult{s, 451, "4.4.1", "try later"}
                                             : DeliveryResult{s, 550, "5.1.1", "no such user"});
    }
    co_return out;
  }
  Route route(const Recipient&) const override { return route_; }

  std::chrono::milliseconds delay{0};
  size_t calls = 0;

 private:
  std::vector<Status> script_;
  Route route_;
};

asio::awaitable<bool> wait_for(std::function<bool()> cond) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) {
      co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

struct Fixture {
  test::TempDir tmp;
  asio::io_context io;
  asio::thread_pool pool{2};
  QueueStore store{tmp.path() / "queue"};
  base::ManualClock clock{TimePoint(seconds(1718000000))};
  DeliveryLog log{100};
  std::vector<std::string> dsn_for;  // failed recipients handed to the DSN hook

  Queue::Options options(seconds lifetime = seconds(3600)) {
    Queue::Options o{{seconds(60)}, lifetime, 4, nullptr};
    o.log = &log;
    o.on_failed = [this](const Envelope&, const std::vector<const Recipient*>& rcpts,
                         std::string_view) {
      for (const Recipient* r : rcpts) {
        dsn_for.push_back(r->address);
      }
    };
    return o;
  }

  Envelope put(std::vector<bool> local) {
    Envelope env;
    env.id = QueueStore::new_id();
    env.created = std::chrono::time_point_cast<seconds>(clock.now());
    env.from = "alice@example.org";
    for (size_t i = 0; i < local.size(); ++i) {
      Recipient r;
      r.address = "rcpt" + std::to_string(i) + "@example.net";
      r.original = r.address;
      r.local = local[i];
      env.rcpts.push_back(r);
    }
    std::optional<std::error_code> ec = run(io, store.put(env, "Subject: t\r\n\r\nhi\r\n"));
    EXPECT_TRUE(ec && !*ec);
    return env;
  }

  bool until(std::function<bool()> cond) {
    return run(io, wait_for(std::move(cond)), std::chrono::seconds(20)).value_or(false);
  }

  std::error_code remove(Queue& q, const std::string& id) {
    return run(io, q.remove(id)).value_or(std::make_error_code(std::errc::timed_out));
  }
};

// Runs the queue while in scope; stops it and waits for run() to return at the end.
class Running {
 public:
  Running(Fixture& f, Queue& q) : f_(f), q_(q) {
    asio::co_spawn(f_.io, q_.run(), [this](std::exception_ptr) { stopped_ = true; });
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() {
    q_.stop();
    f_.until([this] { return stopped_; });
  }

 private:
  Fixture& f_;
  Queue& q_;
  bool stopped_ = false;
};

TEST(QueueRemove, RemovesAWaitingMessageWithoutDsnOrAttempt) {
  Fixture f;
  ScriptCourier local({Status::Transient}, Route::Maildir);
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(), local, nullptr, f.clock);
  Envelope env = f.put({true});
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(f.remove(q, env.id));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(f.store.message_path(env.id)));
  EXPECT_FALSE(std::filesystem::exists(f.tmp.path() / "queue" / (env.id + ".state")));
  // Its retry time comes and goes: no attempt, no DSN.
  f.clock.advance(seconds(120));
  q.wake_for_test();
  test::drain(f.io, std::chrono::milliseconds(200));
  EXPECT_EQ(local.calls, 1u);
  EXPECT_TRUE(f.dsn_for.empty());
  // Gone now: a second removal says so.
  EXPECT_EQ(f.remove(q, env.id), std::errc::no_such_file_or_directory);
}

TEST(QueueRemove, RefusedWhileInFlight) {
  Fixture f;
  ScriptCourier local({Status::Delivered}, Route::Maildir);
  local.delay = std::chrono::milliseconds(300);
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(), local, nullptr, f.clock);
  Envelope env = f.put({true});
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return q.in_flight() == 1; }));
  EXPECT_EQ(f.remove(q, env.id), std::errc::device_or_resource_busy);
  EXPECT_TRUE(std::filesystem::exists(f.store.message_path(env.id)));
  // The attempt ends as it would have: delivered and removed by the runner.
  ASSERT_TRUE(f.until([&] { return q.size() == 0 && f.store.list().empty(); }));
}

TEST(QueueRemove, UnknownAndMalformedIds) {
  Fixture f;
  ScriptCourier local({Status::Delivered}, Route::Maildir);
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(), local, nullptr, f.clock);
  EXPECT_EQ(f.remove(q, QueueStore::new_id()), std::errc::no_such_file_or_directory);
  EXPECT_EQ(f.remove(q, "../../etc/passwd"), std::errc::invalid_argument);
  EXPECT_EQ(f.remove(q, ""), std::errc::invalid_argument);
}

// A message the runner never scheduled (remote recipients without a remote courier) is removed
// from the folder all the same.
TEST(QueueRemove, RemovesAnUnscheduledMessage) {
  Fixture f;
  ScriptCourier local({Status::Delivered}, Route::Maildir);
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(), local, nullptr, f.clock);
  Envelope env = f.put({false});
  EXPECT_FALSE(f.remove(q, env.id));
  EXPECT_TRUE(f.store.list().empty());
}

TEST(QueueDeliveryLog, DeferredThenDeliveredWithTheRoute) {
  Fixture f;
  ScriptCourier remote({Status::Transient, Status::Delivered}, Route::Relay);
  ScriptCourier local({Status::Delivered}, Route::Maildir);
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(), local, &remote, f.clock);
  Envelope env = f.put({false, true});
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return remote.calls == 1 && q.in_flight() == 0; }));
  q.flush(env.id);
  ASSERT_TRUE(f.until([&] { return q.size() == 0; }));
  std::vector<DeliveryEvent> events = f.log.recent(env.id, 10);
  ASSERT_EQ(events.size(), 3u);
  // Newest first: the relay's delivery, then the first attempt's two outcomes in order.
  EXPECT_EQ(events[0].result, EventResult::Delivered);
  EXPECT_EQ(events[0].via, Route::Relay);
  EXPECT_EQ(events[0].recipient, "rcpt0@example.net");
  EXPECT_EQ(events[0].reply, "250 2.0.0 ok");
  EXPECT_EQ(events[1].result, EventResult::Deferred);
  EXPECT_EQ(events[1].via, Route::Relay);
  EXPECT_EQ(events[1].reply, "451 4.4.1 try later");
  EXPECT_EQ(events[2].result, EventResult::Delivered);
  EXPECT_EQ(events[2].via, Route::Maildir);
  EXPECT_EQ(events[2].recipient, "rcpt1@example.net");
  EXPECT_EQ(events[2].id, env.id);
  EXPECT_EQ(events[2].time, f.clock.now());
}

TEST(QueueDeliveryLog, BouncedAndExpiredWithTheirDsn) {
  Fixture f;
  ScriptCourier local({Status::Permanent}, Route::Maildir);
  ScriptCourier remote({Status::Transient}, Route::Mx);
  // Lifetime 0: the first transient failure is already past the expiry.
  Queue q(f.io.get_executor(), f.pool, f.store, f.options(seconds(0)), local, &remote, f.clock);
  Envelope env = f.put({true, false});
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return q.size() == 0; }));
  std::vector<DeliveryEvent> events = f.log.recent("", 10);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].result, EventResult::Dsn);
  EXPECT_EQ(events[1].result, EventResult::Dsn);
  EXPECT_EQ(events[0].reply, "failure DSN to alice@example.org");
  // The DSN events carry their recipients' routes, newest first: the remote one was added last.
  EXPECT_EQ(events[0].via, Route::Mx);
  EXPECT_EQ(events[0].recipient, "rcpt1@example.net");
  EXPECT_EQ(events[1].via, Route::Maildir);
  EXPECT_EQ(events[2].result, EventResult::Expired);
  EXPECT_EQ(events[2].via, Route::Mx);
  EXPECT_EQ(events[3].result, EventResult::Bounced);
  EXPECT_EQ(events[3].reply, "550 5.1.1 no such user");
  EXPECT_EQ(f.dsn_for.size(), 2u);
}

}  // namespace
}  // namespace hk::queue
