// Queue: the runner. Schedules every queued message at its next attempt, runs attempts through
// the Couriers, records each recipient's outcome in the store and removes finished messages; asks
// for the bounce of failed recipients and, once per message, the delay warning.
//
// Memory stays bounded with any queue size: only (id, due time) is kept per message; envelope
// and bytes are loaded from the store when an attempt is due and dropped after it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/queue/courier.hpp"
#include "daemon/queue/queue_store.hpp"
#include "lib/base/clock.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::queue {

struct DeliveryMetrics;
class DeliveryLog;

class Queue {
 public:
  // Called with the recipients that have just failed for good (permanent reply or expiry),
  // before the new state is saved: the DSN hook (RFC 3464). It runs on the queue's executor and
  // must not block; it must copy what it keeps. After a crash at the wrong moment it may be
  // called again for the same recipients (at least once, never lost). `message` is the queued
  // bytes, handed over because the runner may remove the message from the store right after the
  // hook returns: a DSN built later could not read it back.
  using FailedHook = std::function<void(
      const Envelope& env, const std::vector<const Recipient*>& failed, std::string_view message)>;
  // Called once per message with the recipients still pending (and being retried) when the
  // message has been queued for Options::delay_warning: the delay warning hook (RFC 3464 Action:
  // delayed). `retry_until` is when the queue gives up on them (created + lifetime). Unlike
  // FailedHook it is called only after the warning is recorded in the state sidecar: at most once
  // per message, even across restarts, since a repeated warning is what its reader must never
  // get; a crash in between loses the warning instead. Same rules otherwise: it runs on the
  // queue's executor, must not block and must copy what it keeps. Never called for a null sender.
  using DelayedHook =
      std::function<void(const Envelope& env, const std::vector<const Recipient*>& pending,
                         TimePoint retry_until, std::string_view message)>;

  struct Options {
    std::vector<std::chrono::seconds> retry;  // delays after attempt 1, 2, …; the last repeats
    std::chrono::seconds lifetime;            // a transient failure after created + lifetime fails
    size_t max_concurrent;                    // attempts in flight at once (0 counts as 1)
    FailedHook on_failed = nullptr;
    // Warn the sender once when a message still has pending recipients this long after it was
    // queued (Postfix's delay_warning_time). Off when 0, when not below `lifetime` (the bounce
    // comes first) or without on_delayed.
    std::chrono::seconds delay_warning{0};
    DelayedHook on_delayed = nullptr;
    const DeliveryMetrics* metrics = nullptr;  // expired recipients, delay to delivery
    // Every recorded outcome (not a postponement) and every DSN asked for, for the console's
    // delivery log; used on the queue's executor, kept from construction like the hooks.
    DeliveryLog* log = nullptr;
  };

  // All state lives on `ex`, which must be single-threaded (the I/O thread's io_context or a
  // strand); the public functions below may be called from any thread. `remote` may be nullptr
  // until remote delivery exists: remote recipients then stay pending (logged once). Every time
  // decision (when an attempt is due, the next retry, expiry, the delay warning) reads `clock`,
  // which must outlive the queue: the daemon's SystemClock, or a test's ManualClock.
  Queue(boost::asio::any_io_executor ex, boost::asio::thread_pool& pool, QueueStore& store,
        Options options, Courier& local, Courier* remote, const base::Clock& clock);
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Called by the SMTP session right after put() succeeded: the first attempt is due now. Only
  // env.id is kept; the envelope is read back from the store when the attempt runs.
  void enqueued(Envelope env);
  // At startup: reads every envelope in the store (on the pool, in chunks) and schedules each
  // message at its earliest pending recipient's next attempt.
  boost::asio::awaitable<void> recover();
  // The scheduler loop; returns after stop() once the attempts in flight have finished.
  boost::asio::awaitable<void> run();
  // Retry now, ignoring the schedule: one message, or every message when `id` is empty.
  void flush(const std::string& id = "");
  // Removes a queued message at the administrator's request (the console): no DSN, no further
  // attempt. Refused with EBUSY while an attempt of it is in flight (its outcome is about to be
  // recorded), EINVAL for a malformed ID, ENOENT for an unknown one. Call it on the queue's
  // executor.
  boost::asio::awaitable<std::error_code> remove(std::string id);
  // Attempts in flight run to their end (see RemoteCourier::abandon for the shutdown's bound); no
  // new one starts, and run() returns once none is left.
  void stop();
  // A reload: the retry intervals, lifetime, concurrency and delay warning of `options` apply
  // from the next decision on; the hooks and metrics given at construction stay.
  void reconfigure(const Options& options);
  // The runner sleeps until the next due time as the clock tells it, reading the clock again at
  // least once a minute; a test that advances a ManualClock calls this to have the new time seen
  // at once.
  void wake_for_test();
  // A destination that postponed deliveries (DeliveryResult::postponed_for) has freed a
  // connection: the first of its postponed messages still waiting is sent now. Call it on the
  // queue's executor.
  void destination_free(const std::string& destination);

  // The clock of every time decision, for those that act on the queue's behalf (the DSN's date
  // and the DSN's own created time).
  const base::Clock& clock() const { return clock_; }

  // Messages known to the scheduler (waiting or in flight), and attempts running now, for
  // metrics and tests; call them on the queue's executor.
  size_t size() const { return slots_.size(); }
  size_t in_flight() const { return in_flight_; }
  // When the oldest of those messages was accepted (Envelope::created), or nothing when none is
  // queued; a linear walk, for the metrics page and `hikyaku-util status`.
  std::optional<TimePoint> oldest() const;

 private:
  struct Slot {
    TimePoint due;
    bool in_flight = false;
    TimePoint created{};  // the envelope's; the epoch until known
    bool force = false;   // next attempt ignores the recipients' next_attempt (flush)
    bool rerun = false;   // scheduled again while in flight
    // Recipients whose last attempt was only postponed (a busy or backing-off destination):
    // their next try lives here, not in the state file, which is not rewritten for that; they
    // are due when the slot is.
    std::vector<size_t> postponed;
  };
  using HeapItem = std::pair<TimePoint, std::string>;

  void schedule(const std::string& id, TimePoint due, bool force);
  void note_created(const std::string& id, TimePoint created);
  void launch_due();
  void finish(const std::string& id, std::optional<TimePoint> next);
  boost::asio::awaitable<std::optional<TimePoint>> attempt(std::string id, bool force);
  // Returns how many of the results were real attempts; the recipients (indexes into env.rcpts)
  // whose delivery was postponed instead are added to `postponed`.
  size_t record(Envelope& env, const Courier& courier, const std::vector<size_t>& index,
                const std::vector<DeliveryResult>& results, TimePoint now,
                std::vector<const Recipient*>& failed, std::vector<size_t>& postponed);
  std::optional<TimePoint> next_due(const Envelope& env) const;
  std::optional<TimePoint> warning_due(const Envelope& env) const;
  std::vector<const Recipient*> take_warning(Envelope& env, TimePoint now) const;
  // A "dsn" event per recipient the sender is told about (a DSN or a delay warning).
  void log_dsn(const Envelope& env, const std::vector<const Recipient*>& rcpts, const char* what);
  bool can_deliver(const Recipient& r) const { return r.local || remote_ != nullptr; }

  boost::asio::any_io_executor ex_;
  boost::asio::thread_pool& pool_;
  QueueStore& store_;
  Options options_;
  Courier& local_;
  Courier* remote_;
  const base::Clock& clock_;

  boost::asio::steady_timer timer_;
  std::unordered_map<std::string, Slot> slots_;
  // Earliest first; entries whose time no longer matches their slot are stale and skipped.
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap_;
  // Per destination at its connection limit: the messages postponed for it, in order. Entries
  // whose message has gone, runs or is due anyway are skipped when a slot frees.
  std::unordered_map<std::string, std::deque<std::string>> waiting_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  bool warned_no_remote_ = false;
  std::mt19937 rng_;
};

}  // namespace hk::queue
