// Tests for the Queue runner with a fake Courier: retries, permanent failures, expiry, flush,
// recovery after a restart, remote recipients without a remote courier, and the delay warning.
// Time is a ManualClock that the tests advance: no test waits for a retry in real time.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "daemon/queue/queue.hpp"
#include "lib/base/clock.hpp"
#include "lib/queue/delivery_result.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace asio = boost::asio;
using hk::test::run;
using hk::test::TempDir;
using std::chrono::seconds;
using Status = DeliveryResult::Status;

// Answers each call with the next status of its script (the last one repeats) for every
// recipient, and remembers what it was asked.
class FakeCourier final : public Courier {
 public:
  explicit FakeCourier(std::vector<Status> script) : script_(std::move(script)) {}

  asio::awaitable<std::vector<DeliveryResult>> deliver(const Envelope& env,
                                                       const std::vector<const Recipient*>& rcpts,
                                                       const std::string& message) override {
    Status s = script_[std::min(calls, script_.size() - 1)];
    ++calls;
    ids.push_back(env.id);
    last_message = message;
    if (delay.count() > 0) {
      ++in_flight;
      max_in_flight = std::max(max_in_flight, in_flight);
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
      --in_flight;
    }
    std::vector<DeliveryResult> out;
    for (const Recipient* r : rcpts) {
      addresses.push_back(r->address);
      out.push_back(s == Status::Delivered   ? DeliveryResult{s, 250, "2.0.0", "ok"}
                    : s == Status::Transient ? DeliveryResult{s, 451, "4.4.1", "try later"}
                                             : DeliveryResult{s, 550, "5.1.1", "no such user"});
    }
    co_return out;
  }

  std::chrono::milliseconds delay{0};  // how long each call takes
  size_t calls = 0;
  size_t in_flight = 0;
  size_t max_in_flight = 0;
  std::vector<std::string> ids;
  std::vector<std::string> addresses;
  std::string last_message;

 private:
  std::vector<Status> script_;
};

// The one-line form of a recipient's last reply, as logs and hooks show it.
std::string last_reply(const Recipient& r) {
  return reply_line(r.last_code, r.last_enhanced, r.last_text);
}

// Queued at `now`, which is a whole second, as the store keeps it.
Envelope make_envelope(TimePoint now, std::vector<bool> local) {
  Envelope env;
  env.id = QueueStore::new_id();
  env.created = std::chrono::time_point_cast<seconds>(now);
  env.from = "alice@example.org";
  for (size_t i = 0; i < local.size(); ++i) {
    Recipient r;
    r.address = "rcpt" + std::to_string(i) + "@example.net";
    r.original = r.address;
    r.local = local[i];
    env.rcpts.push_back(r);
  }
  return env;
}

const std::string kMessage = "Subject: t\r\n\r\nhello\r\n";

// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
asio::awaitable<bool> wait_for(std::function<bool()> cond, std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) {
      co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

// Adapts an awaitable<void> for hk::test::run.
asio::awaitable<bool> done(asio::awaitable<void> aw) {
  co_await std::move(aw);
  co_return true;
}

struct Fixture {
  TempDir tmp;
  asio::io_context io;
  asio::thread_pool pool{2};
  std::unique_ptr<QueueStore> store = std::make_unique<QueueStore>(tmp.path() / "queue");
  // Far from the real time on purpose: a decision taken on the system clock would show.
  base::ManualClock clock{TimePoint(seconds(1718000000))};

  Queue::Options options(std::vector<seconds> retry = {seconds(1)},
                         seconds lifetime = seconds(3600)) {
    return Queue::Options{std::move(retry), lifetime, 4, nullptr};
  }

  Envelope envelope(std::vector<bool> local) { return make_envelope(clock.now(), local); }

  void put(const Envelope& env) {
    std::optional<std::error_code> ec = run(io, store->put(env, kMessage));
    ASSERT_TRUE(ec.has_value());
    ASSERT_FALSE(*ec);
  }

  // Drives the io_context until `cond` holds (or 10 s pass); returns whether it held.
  bool until(std::function<bool()> cond) {
    return run(io, wait_for(std::move(cond), std::chrono::seconds(10)), std::chrono::seconds(20))
        .value_or(false);
  }

  // Drives the io_context for a moment of real time: long enough for an attempt that is due to
  // start, so that one that is not due can be seen not to start.
  void idle() {
    auto never = [] { return false; };
    run(io, wait_for(never, std::chrono::milliseconds(50)));
  }

  // Moves the clock on and lets the runner see it.
  void advance(Queue& q, seconds d) {
    clock.advance(d);
    q.wake_for_test();
  }

  // Advances the clock by `d` and waits for the attempt that this makes due (the next retry or
  // the expiry) to finish.
  bool next_attempt(Queue& q, const FakeCourier& courier, seconds d) {
    size_t before = courier.calls;
    advance(q, d);
    return until([&] { return courier.calls > before && q.in_flight() == 0; });
  }

  // Runs the queue until `cond` holds (or 10 s pass), then stops it and waits for run() to end.
  bool run_until(Queue& q, std::function<bool()> cond);
};

// Runs q.run() on the fixture's io_context while in scope (the fixture's waits drive it); stops
// the queue and waits for run() to return when it goes out of scope, also after a failed ASSERT.
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
    EXPECT_TRUE(stopped_);
  }

 private:
  Fixture& f_;
  Queue& q_;
  bool stopped_ = false;
};

bool Fixture::run_until(Queue& q, std::function<bool()> cond) {
  Running running(*this, q);
  return until(std::move(cond));
}

bool fs_exists_state(const Fixture& f, const std::string& id) {
  return std::filesystem::exists(f.tmp.path() / "queue" / (id + ".state"));
}

TEST(QueueRunner, TransientThenDelivered) {
  Fixture f;
  FakeCourier local({Status::Transient, Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(10)}), local, nullptr, f.clock);
  Envelope env = f.envelope({true});
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
  // The retry waits for the 10 s schedule (±10 % jitter), not less.
  f.advance(q, seconds(8));
  f.idle();
  EXPECT_EQ(local.calls, 1u);
  f.advance(q, seconds(4));
  ASSERT_TRUE(f.until([&] { return local.calls == 2 && q.size() == 0; }));
  EXPECT_TRUE(f.store->list().empty());
  EXPECT_EQ(local.ids, (std::vector<std::string>{env.id, env.id}));
  EXPECT_EQ(local.last_message, kMessage);
}

TEST(QueueRunner, StateIsSavedBetweenAttempts) {
  Fixture f;
  FakeCourier local({Status::Transient});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, nullptr,
          f.clock);
  Envelope env = f.envelope({true, true});
  f.put(env);
  q.enqueued(env);
  ASSERT_TRUE(f.run_until(q, [&] { return local.calls == 1 && fs_exists_state(f, env.id); }));
  Envelope loaded;
  ASSERT_FALSE(f.store->load_envelope(env.id, loaded));
  auto now = f.clock.now();
  for (const Recipient& r : loaded.rcpts) {
    EXPECT_EQ(r.state, RcptState::Pending);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.last_code, 451);
    EXPECT_EQ(r.last_enhanced, "4.4.1");
    EXPECT_EQ(r.last_text, "try later");
    // An hour on the clock, ±10 % jitter; the sidecar keeps whole seconds.
    EXPECT_GE(r.next_attempt, now + seconds(3239));
    EXPECT_LE(r.next_attempt, now + seconds(3960));
  }
  EXPECT_EQ(q.size(), 1u);  // still scheduled, an hour from now
}

// The oldest message's acceptance time, for the metrics page and `status`: from enqueued() and
// from recovery after a restart; nothing once the queue is empty.
TEST(QueueRunner, OldestIsTheEarliestAcceptedStillQueued) {
  Fixture f;
  FakeCourier local({Status::Transient, Status::Transient, Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, nullptr,
          f.clock);
  EXPECT_FALSE(q.oldest().has_value());
  Envelope first = f.envelope({true});
  TimePoint first_at = first.created;
  f.put(first);
  q.enqueued(first);
  f.clock.advance(seconds(30));
  Envelope second = f.envelope({true});
  f.put(second);
  q.enqueued(second);
  ASSERT_TRUE(f.run_until(q, [&] { return local.calls == 2 && q.in_flight() == 0; }));
  ASSERT_TRUE(q.oldest().has_value());
  EXPECT_EQ(*q.oldest(), first_at);

  // A restart: the recovered messages bring their acceptance time back.
  Queue again(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, nullptr,
              f.clock);
  ASSERT_TRUE(run(f.io, done(again.recover())));
  ASSERT_TRUE(again.oldest().has_value());
  EXPECT_EQ(*again.oldest(), first_at);
  EXPECT_EQ(again.size(), 2u);
}

TEST(QueueRunner, PermanentFailureCallsHookAndRemoves) {
  Fixture f;
  FakeCourier local({Status::Permanent});
  std::vector<std::string> failed;
  std::string bytes;
  Queue::Options opts = f.options();
  opts.on_failed = [&](const Envelope& env, const std::vector<const Recipient*>& rcpts,
                       std::string_view message) {
    for (const Recipient* r : rcpts) {
      failed.push_back(env.id + " " + r->address + " " + last_reply(*r));
    }
    bytes = message;  // the message is removed from the store next: the hook gets the bytes
  };
  Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
  Envelope env = f.envelope({true});
  f.put(env);
  q.enqueued(env);
  ASSERT_TRUE(f.run_until(q, [&] { return f.store->list().empty(); }));
  EXPECT_EQ(local.calls, 1u);
  EXPECT_EQ(failed, std::vector<std::string>{env.id + " rcpt0@example.net 550 5.1.1 no such user"});
  EXPECT_EQ(bytes, kMessage);
}

TEST(QueueRunner, ExpiredTransientFails) {
  Fixture f;
  FakeCourier local({Status::Transient});
  int hook_calls = 0;
  Queue::Options opts = f.options({seconds(1)}, seconds(60));
  opts.on_failed = [&](const Envelope&, const std::vector<const Recipient*>& rcpts,
                       std::string_view) { hook_calls += static_cast<int>(rcpts.size()); };
  Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
  Envelope env = f.envelope({true, true});
  env.created -= seconds(120);  // older than its lifetime
  f.put(env);
  q.enqueued(env);
  ASSERT_TRUE(f.run_until(q, [&] { return f.store->list().empty(); }));
  EXPECT_EQ(local.calls, 1u);  // one last attempt, then failed
  EXPECT_EQ(hook_calls, 2);
}

// However long the retry table's delay, the last attempt falls at the end of the lifetime, and
// a transient failure then is final.
TEST(QueueRunner, LastRetryFallsAtExpiry) {
  Fixture f;
  FakeCourier local({Status::Transient});
  int hook_calls = 0;
  Queue::Options opts = f.options({seconds(3600)}, seconds(60));
  opts.on_failed = [&](const Envelope&, const std::vector<const Recipient*>& rcpts,
                       std::string_view) { hook_calls += static_cast<int>(rcpts.size()); };
  Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
  Envelope env = f.envelope({true});
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
  Envelope loaded;
  ASSERT_FALSE(f.store->load_envelope(env.id, loaded));
  EXPECT_EQ(loaded.rcpts[0].next_attempt, env.created + seconds(60));
  f.advance(q, seconds(59));
  f.idle();
  EXPECT_EQ(local.calls, 1u);
  EXPECT_EQ(hook_calls, 0);
  f.advance(q, seconds(1));
  ASSERT_TRUE(f.until([&] { return f.store->list().empty() && q.size() == 0; }));
  EXPECT_EQ(local.calls, 2u);
  EXPECT_EQ(hook_calls, 1);
}

TEST(QueueRunner, FlushRetriesNow) {
  Fixture f;
  FakeCourier local({Status::Transient, Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, nullptr,
          f.clock);
  Envelope env = f.envelope({true});
  f.put(env);
  q.enqueued(env);
  bool flushed = false;
  ASSERT_TRUE(f.run_until(q, [&] {
    if (local.calls == 1 && !flushed && fs_exists_state(f, env.id)) {
      flushed = true;
      q.flush();
    }
    return f.store->list().empty();
  }));
  EXPECT_EQ(local.calls, 2u);
}

TEST(QueueRunner, RemoteRecipientsWaitWithoutRemoteCourier) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options(), local, nullptr, f.clock);
  Envelope env = f.envelope({true, false});
  f.put(env);
  q.enqueued(env);
  ASSERT_TRUE(f.run_until(q, [&] { return local.calls == 1 && fs_exists_state(f, env.id); }));
  EXPECT_EQ(local.addresses, std::vector<std::string>{"rcpt0@example.net"});
  Envelope loaded;
  ASSERT_FALSE(f.store->load_envelope(env.id, loaded));
  EXPECT_EQ(loaded.rcpts[0].state, RcptState::Delivered);
  EXPECT_EQ(loaded.rcpts[1].state, RcptState::Pending);
  EXPECT_EQ(loaded.rcpts[1].attempts, 0);
  EXPECT_EQ(q.size(), 0u);  // nothing left it could deliver: not kept in memory
}

TEST(QueueRunner, RemoteCourierGetsRemoteRecipients) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  FakeCourier remote({Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options(), local, &remote, f.clock);
  Envelope env = f.envelope({false, true, false});
  f.put(env);
  q.enqueued(env);
  ASSERT_TRUE(f.run_until(q, [&] { return f.store->list().empty(); }));
  EXPECT_EQ(local.addresses, std::vector<std::string>{"rcpt1@example.net"});
  EXPECT_EQ(remote.addresses, (std::vector<std::string>{"rcpt0@example.net", "rcpt2@example.net"}));
}

TEST(QueueRunner, RecoverAfterReopen) {
  Fixture f;
  Envelope due = f.envelope({true});
  Envelope later = f.envelope({true});
  Envelope finished = f.envelope({true});
  f.put(due);
  f.put(later);
  f.put(finished);
  later.rcpts[0].attempts = 2;
  later.rcpts[0].next_attempt = f.clock.now() + seconds(3600);
  ASSERT_FALSE(f.store->save_state(later));
  finished.rcpts[0].state = RcptState::Delivered;  // done, but the crash came before remove()
  ASSERT_FALSE(f.store->save_state(finished));

  // "Restart": a new store on the same folder, a new runner.
  f.store = std::make_unique<QueueStore>(f.tmp.path() / "queue");
  FakeCourier local({Status::Delivered});
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options(), local, nullptr, f.clock);
  ASSERT_TRUE(run(f.io, done(q.recover())));
  EXPECT_EQ(q.size(), 2u);
  ASSERT_TRUE(f.run_until(q, [&] { return local.calls == 1 && f.store->list().size() == 1; }));
  EXPECT_EQ(local.ids, std::vector<std::string>{due.id});
  EXPECT_EQ(f.store->list(), std::vector<std::string>{later.id});
  EXPECT_EQ(q.size(), 1u);
}

TEST(QueueRunner, ManyMessagesRespectConcurrency) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  local.delay = std::chrono::milliseconds(20);
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options(), local, nullptr, f.clock);  // 4
  for (int i = 0; i < 50; ++i) {
    Envelope env = f.envelope({true});
    f.put(env);
  }
  ASSERT_TRUE(run(f.io, done(q.recover())));
  EXPECT_EQ(q.size(), 50u);
  ASSERT_TRUE(f.run_until(q, [&] { return f.store->list().empty(); }));
  EXPECT_EQ(local.calls, 50u);
  EXPECT_EQ(local.max_in_flight, 4u);
  EXPECT_EQ(q.size(), 0u);
}

// --- The delay warning. A message's age is the clock's time since `created`: backdating
// `created` puts it hours into the queue, and advancing the clock lets the hours pass. ---

// Records every call of the delay warning hook.
struct Warnings {
  struct Call {
    std::string id;
    std::vector<std::string> addresses;
    std::vector<std::string> replies;
    TimePoint retry_until;
  };
  std::vector<Call> calls;

  // `opts` with warnings after `delay`, reported here.
  Queue::Options attach(Queue::Options opts, seconds delay) {
    opts.delay_warning = delay;
    opts.on_delayed = [this](const Envelope& env, const std::vector<const Recipient*>& pending,
                             TimePoint retry_until, std::string_view) {
      Call c{env.id, {}, {}, retry_until};
      for (const Recipient* r : pending) {
        c.addresses.push_back(r->address);
        c.replies.push_back(last_reply(*r));
      }
      calls.push_back(std::move(c));
    };
    return opts;
  }
};

TimePoint warned_at(const Fixture& f, const std::string& id) {
  Envelope loaded;
  EXPECT_FALSE(f.store->load_envelope(id, loaded));
  return loaded.delay_warned;
}

TEST(QueueDelayWarning, SentOnceForPendingRecipientsOnly) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  FakeCourier remote({Status::Transient});
  Warnings warnings;
  Queue::Options opts = warnings.attach(f.options({seconds(1)}, seconds(3600)), seconds(5));
  Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, &remote, f.clock);
  Envelope env = f.envelope({true, false, false});
  env.created -= seconds(10);  // queued 10 s ago: past the 5 s warning time
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  // Three attempts: the warning follows the first, and the two retries do not repeat it.
  ASSERT_TRUE(f.until([&] { return remote.calls == 1 && q.in_flight() == 0; }));
  ASSERT_TRUE(f.next_attempt(q, remote, seconds(2)));
  ASSERT_TRUE(f.next_attempt(q, remote, seconds(2)));
  EXPECT_EQ(remote.calls, 3u);
  ASSERT_EQ(warnings.calls.size(), 1u);
  const Warnings::Call& w = warnings.calls[0];
  EXPECT_EQ(w.id, env.id);
  // The delivered local recipient is not reported; the two still being retried are.
  EXPECT_EQ(w.addresses, (std::vector<std::string>{"rcpt1@example.net", "rcpt2@example.net"}));
  EXPECT_EQ(w.replies, (std::vector<std::string>{"451 4.4.1 try later", "451 4.4.1 try later"}));
  EXPECT_EQ(w.retry_until, env.created + seconds(3600));
  EXPECT_EQ(warned_at(f, env.id), env.created + seconds(10));  // recorded in the state sidecar
  EXPECT_EQ(f.store->list(), std::vector<std::string>{env.id});
}

// With a retry an hour away, the warning does not wait for it: the warning time is an attempt
// time of its own.
TEST(QueueDelayWarning, WarningTimeIsAnAttemptTime) {
  Fixture f;
  FakeCourier local({Status::Transient});
  Warnings warnings;
  Queue::Options opts = warnings.attach(f.options({seconds(3600)}, seconds(7200)), seconds(3));
  Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
  Envelope env = f.envelope({true});
  env.created -= seconds(1);  // warning due 2 s from now, next retry in an hour
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
  f.advance(q, seconds(1));
  f.idle();
  EXPECT_TRUE(warnings.calls.empty());  // not before the warning time
  EXPECT_EQ(local.calls, 1u);
  f.advance(q, seconds(1));
  ASSERT_TRUE(f.until([&] { return !warnings.calls.empty() && q.in_flight() == 0; }));
  EXPECT_EQ(local.calls, 2u);  // the first attempt, then one at the warning time
  ASSERT_EQ(warnings.calls.size(), 1u);
  EXPECT_EQ(warnings.calls[0].addresses, std::vector<std::string>{"rcpt0@example.net"});
  EXPECT_EQ(q.size(), 1u);  // back on the hourly schedule
}

// No warning: warnings off (0), a warning time not before the lifetime's end, a null sender.
TEST(QueueDelayWarning, NotSentWhenOffOrForNullSender) {
  struct Case {
    std::string name;
    seconds delay_warning;
    seconds lifetime;
    std::string from;
    seconds age;
  };
  const std::vector<Case> cases = {
      {"off", seconds(0), seconds(3600), "alice@example.org", seconds(600)},
      {"null sender", seconds(5), seconds(3600), "", seconds(600)},
      // Equal to, then longer than, the lifetime: the message bounces instead.
      {"at lifetime", seconds(2), seconds(2), "alice@example.org", seconds(1)},
      {"past lifetime", seconds(5), seconds(2), "alice@example.org", seconds(1)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    FakeCourier local({Status::Transient});
    Warnings warnings;
    int failed = 0;
    Queue::Options opts = warnings.attach(f.options({seconds(1)}, c.lifetime), c.delay_warning);
    opts.on_failed = [&](const Envelope&, const std::vector<const Recipient*>& rcpts,
                         std::string_view) { failed += static_cast<int>(rcpts.size()); };
    Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
    Envelope env = f.envelope({true});
    env.from = c.from;
    env.created -= c.age;
    f.put(env);
    q.enqueued(env);
    bool expires = c.lifetime < seconds(60);
    auto done = [&] { return expires ? f.store->list().empty() : local.calls >= 3; };
    Running running(f, q);
    ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
    // A retry every 2 s of the clock, until the message bounces or has had three attempts.
    for (int step = 0; step < 5 && !done(); ++step) {
      ASSERT_TRUE(f.next_attempt(q, local, seconds(2)));
    }
    ASSERT_TRUE(done());
    EXPECT_TRUE(warnings.calls.empty());
    if (expires) {
      EXPECT_EQ(failed, 1);  // bounced at the end of its lifetime
    } else {
      EXPECT_EQ(warned_at(f, env.id), TimePoint{});
    }
  }
}

TEST(QueueDelayWarning, NotSentWhenDeliveredInTime) {
  struct Case {
    std::string name;
    seconds age;    // when queued; the warning (at 3 s) is due 3 s - age from now
    seconds retry;  // after the first attempt, which defers
  };
  // Delivered on the retry, before the warning time; and delivered by the attempt made at the
  // warning time itself, which comes before any warning.
  const std::vector<Case> cases = {{"before", seconds(0), seconds(1)},
                                   {"at the warning time", seconds(1), seconds(3600)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    FakeCourier local({Status::Transient, Status::Delivered});
    Warnings warnings;
    Queue::Options opts = warnings.attach(f.options({c.retry}, seconds(7200)), seconds(3));
    Queue q(f.io.get_executor(), f.pool, *f.store, opts, local, nullptr, f.clock);
    Envelope env = f.envelope({true});
    env.created -= c.age;
    f.put(env);
    q.enqueued(env);
    Running running(f, q);
    ASSERT_TRUE(f.until([&] { return local.calls == 1 && q.in_flight() == 0; }));
    ASSERT_TRUE(f.next_attempt(q, local, seconds(2)));
    EXPECT_TRUE(f.store->list().empty());
    EXPECT_EQ(local.calls, 2u);
    EXPECT_TRUE(warnings.calls.empty());
    EXPECT_EQ(q.size(), 0u);
  }
}

TEST(QueueDelayWarning, NotSentAgainAfterRestart) {
  Fixture f;
  Envelope env = f.envelope({true});
  env.created -= seconds(10);
  f.put(env);
  {
    FakeCourier local({Status::Transient});
    Warnings warnings;
    Queue q(f.io.get_executor(), f.pool, *f.store,
            warnings.attach(f.options({seconds(1)}, seconds(3600)), seconds(5)), local, nullptr,
            f.clock);
    q.enqueued(env);
    ASSERT_TRUE(f.run_until(q, [&] { return !warnings.calls.empty(); }));
    EXPECT_EQ(warnings.calls.size(), 1u);
  }
  TimePoint first = warned_at(f, env.id);
  ASSERT_NE(first, TimePoint{});

  // "Restart": a new store on the same folder, a new runner, the message still pending.
  f.store = std::make_unique<QueueStore>(f.tmp.path() / "queue");
  FakeCourier local({Status::Transient});
  Warnings warnings;
  Queue q(f.io.get_executor(), f.pool, *f.store,
          warnings.attach(f.options({seconds(1)}, seconds(3600)), seconds(5)), local, nullptr,
          f.clock);
  ASSERT_TRUE(run(f.io, done(q.recover())));
  EXPECT_EQ(q.size(), 1u);
  Running running(f, q);
  ASSERT_TRUE(f.next_attempt(q, local, seconds(2)));
  ASSERT_TRUE(f.next_attempt(q, local, seconds(2)));
  EXPECT_GE(local.calls, 2u);
  EXPECT_TRUE(warnings.calls.empty());
  EXPECT_EQ(warned_at(f, env.id), first);  // kept by every later state write
}

// A message found past its warning time at startup (the daemon was down) is warned about at once.
TEST(QueueDelayWarning, RecoveredMessageIsWarnedPromptly) {
  Fixture f;
  Envelope env = f.envelope({true});
  env.created -= seconds(100);
  f.put(env);
  env.rcpts[0].attempts = 4;
  env.rcpts[0].last_code = 451;
  env.rcpts[0].last_enhanced = "4.4.1";
  env.rcpts[0].last_text = "try later";
  env.rcpts[0].next_attempt = f.clock.now() + seconds(3600);
  ASSERT_FALSE(f.store->save_state(env));

  f.store = std::make_unique<QueueStore>(f.tmp.path() / "queue");
  FakeCourier local({Status::Transient});
  Warnings warnings;
  Queue q(f.io.get_executor(), f.pool, *f.store,
          warnings.attach(f.options({seconds(3600)}, seconds(7200)), seconds(60)), local, nullptr,
          f.clock);
  ASSERT_TRUE(run(f.io, done(q.recover())));
  ASSERT_TRUE(f.run_until(q, [&] { return !warnings.calls.empty(); }));
  EXPECT_EQ(local.calls, 1u);
  ASSERT_EQ(warnings.calls.size(), 1u);
  EXPECT_EQ(warnings.calls[0].addresses, std::vector<std::string>{"rcpt0@example.net"});
  EXPECT_EQ(warnings.calls[0].replies, std::vector<std::string>{"451 4.4.1 try later"});
}

// A courier whose destination is not tried (backing off, at its limit): it postpones the first
// `postpone` calls to `until`, then delivers.
class PostponingCourier final : public Courier {
 public:
  asio::awaitable<std::vector<DeliveryResult>> deliver(const Envelope&,
                                                       const std::vector<const Recipient*>& rcpts,
                                                       const std::string&) override {
    ++calls;
    DeliveryResult r{Status::Delivered, 250, "2.0.0", "ok"};
    if (calls <= postpone) {
      r = {Status::Transient, 0, "", "example.net is backing off"};
      r.postponed_until = until;
      r.postponed_for = postponed_for;
    }
    co_return std::vector<DeliveryResult>(rcpts.size(), r);
  }
  size_t postpone = 0;
  size_t calls = 0;
  TimePoint until;
  std::string postponed_for;
};

// A postponed recipient is not attempted: no attempt counted, the last real reply kept, and the
// next try at the time the courier named rather than on the retry schedule.
TEST(QueueRunner, PostponedIsRetriedThenWithoutCountingAnAttempt) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  PostponingCourier remote;
  remote.postpone = 2;
  remote.until = f.clock.now() + seconds(30);
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, &remote,
          f.clock);
  Envelope env = f.envelope({false});
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return remote.calls == 1 && q.in_flight() == 0; }));
  // A postponement alone writes no state (a backlog is postponed many times over): the slot
  // keeps the time, and the stored envelope is as it was.
  EXPECT_FALSE(fs_exists_state(f, env.id));
  Envelope loaded;
  ASSERT_FALSE(f.store->load_envelope(env.id, loaded));
  EXPECT_EQ(loaded.rcpts[0].attempts, 0);
  EXPECT_EQ(loaded.rcpts[0].state, RcptState::Pending);
  EXPECT_EQ(loaded.rcpts[0].last_code, 0);
  EXPECT_EQ(loaded.rcpts[0].next_attempt, TimePoint{});
  // Not before that time (the retry schedule would say an hour; the courier said 30 s).
  f.advance(q, seconds(29));
  f.idle();
  EXPECT_EQ(remote.calls, 1u);
  remote.until = f.clock.now() + seconds(30);
  f.advance(q, seconds(2));
  ASSERT_TRUE(f.until([&] { return remote.calls == 2 && q.in_flight() == 0; }));
  f.advance(q, seconds(31));
  ASSERT_TRUE(f.until([&] { return remote.calls == 3 && q.size() == 0; }));
  EXPECT_TRUE(f.store->list().empty());
}

// A message postponed for a destination at its connection limit goes again as soon as that
// destination frees a connection, long before its postponed_until; a free slot of another
// destination does not wake it.
TEST(QueueRunner, PostponedForADestinationGoesWhenItFreesASlot) {
  Fixture f;
  FakeCourier local({Status::Delivered});
  PostponingCourier remote;
  remote.postpone = 1;
  remote.until = f.clock.now() + seconds(3600);
  remote.postponed_for = "example.net";
  Queue q(f.io.get_executor(), f.pool, *f.store, f.options({seconds(3600)}), local, &remote,
          f.clock);
  Envelope env = f.envelope({false});
  f.put(env);
  q.enqueued(env);
  Running running(f, q);
  ASSERT_TRUE(f.until([&] { return remote.calls == 1 && q.in_flight() == 0; }));
  asio::post(f.io, [&] { q.destination_free("other.example"); });
  f.idle();
  EXPECT_EQ(remote.calls, 1u);
  asio::post(f.io, [&] { q.destination_free("example.net"); });
  ASSERT_TRUE(f.until([&] { return remote.calls == 2 && q.size() == 0; }));
  EXPECT_TRUE(f.store->list().empty());
}

}  // namespace
}  // namespace hk::queue
