// Queue: the runner — scheduling, attempts, recording outcomes.
#include "daemon/queue/queue.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "daemon/queue/delivery_log.hpp"
#include "daemon/queue/delivery_metrics.hpp"
#include "daemon/queue/schedule.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/queue/queue_file.hpp"

namespace hk::queue {

namespace asio = boost::asio;

namespace {

// Envelopes read per trip to the pool while recovering, so that recovery of a huge queue keeps
// only one chunk of envelopes in memory and lets the I/O thread run in between.
constexpr size_t kRecoverChunk = 256;

// The longest the runner sleeps before it reads the clock again. Due times are points on the
// wall clock (they are stored as Unix seconds), while the timer counts elapsed time, so a step of
// the system clock (NTP, an administrator) is noticed within this time.
constexpr std::chrono::seconds kMaxSleep{60};

std::vector<const Recipient*> pointers(const Envelope& env, const std::vector<size_t>& index) {
  std::vector<const Recipient*> out;
  out.reserve(index.size());
  for (size_t i : index) {
    out.push_back(&env.rcpts[i]);
  }
  return out;
}

bool finished(const Envelope& env) {
  return std::none_of(env.rcpts.begin(), env.rcpts.end(),
                      [](const Recipient& r) { return r.state == RcptState::Pending; });
}

}  // namespace

Queue::Queue(asio::any_io_executor ex, asio::thread_pool& pool, QueueStore& store, Options options,
             Courier& local, Courier* remote, const base::Clock& clock)
    : ex_(std::move(ex)),
      pool_(pool),
      store_(store),
      options_(std::move(options)),
      local_(local),
      remote_(remote),
      clock_(clock),
      timer_(ex_),
      rng_(std::random_device{}()) {
  options_.max_concurrent = std::max<size_t>(options_.max_concurrent, 1);
}

void Queue::enqueued(Envelope env) {
  asio::post(ex_, [this, id = std::move(env.id), created = env.created] {
    schedule(id, clock_.now(), false);
    note_created(id, created);
  });
}

void Queue::flush(const std::string& id) {
  asio::post(ex_, [this, id] {
    TimePoint now = clock_.now();
    if (!id.empty()) {
      schedule(id, now, true);
      return;
    }
    std::vector<std::string> ids;
    ids.reserve(slots_.size());
    for (const auto& [key, slot] : slots_) {
      ids.push_back(key);
    }
    for (const std::string& key : ids) {
      schedule(key, now, true);
    }
  });
}

asio::awaitable<std::error_code> Queue::remove(std::string id) {
  if (!valid_id(id)) {
    co_return std::make_error_code(std::errc::invalid_argument);
  }
  auto it = slots_.find(id);
  if (it != slots_.end() && it->second.in_flight) {
    co_return std::make_error_code(std::errc::device_or_resource_busy);
  }
  // Held as if in flight while the files are unlinked on the pool, so that no attempt starts
  // meanwhile (a flush or a due time only marks it for a rerun).
  if (it != slots_.end()) {
    it->second.in_flight = true;
  }
  std::error_code ec = co_await base::offload(pool_, [this, &id] { return store_.remove(id); });
  it = slots_.find(id);
  if (it != slots_.end()) {
    if (!ec || ec == std::errc::no_such_file_or_directory) {
      slots_.erase(it);  // its heap entry turns stale, and the waiting lines skip it
    } else {
      // Still there: back into the schedule, at once when a retry was asked for meanwhile.
      Slot& slot = it->second;
      slot.in_flight = false;
      if (std::exchange(slot.rerun, false)) {
        slot.due = clock_.now();
      }
      heap_.emplace(slot.due, id);
      timer_.cancel();
    }
  }
  if (!ec) {
    base::log_info() << "id=" << id << " result=removed by=console";
  }
  co_return ec;
}

void Queue::destination_free(const std::string& destination) {
  auto it = waiting_.find(destination);
  if (it == waiting_.end()) {
    return;
  }
  std::deque<std::string>& line = it->second;
  const TimePoint now = clock_.now();
  while (!line.empty()) {
    std::string id = std::move(line.front());
    line.pop_front();
    auto slot = slots_.find(id);
    if (slot != slots_.end() && !slot->second.in_flight && slot->second.due > now) {
      schedule(id, now, false);
      break;
    }
  }
  if (line.empty()) {
    waiting_.erase(it);
  }
}

void Queue::stop() {
  asio::post(ex_, [this] {
    stopping_ = true;
    timer_.cancel();
  });
}

void Queue::reconfigure(const Options& options) {
  asio::post(ex_, [this, retry = options.retry, lifetime = options.lifetime,
                   max_concurrent = options.max_concurrent, warning = options.delay_warning] {
    options_.retry = retry;
    options_.lifetime = lifetime;
    options_.max_concurrent = std::max<size_t>(max_concurrent, 1);
    options_.delay_warning = warning;
    timer_.cancel();  // more room for attempts may be there now
  });
}

void Queue::wake_for_test() {
  asio::post(ex_, [this] { timer_.cancel(); });
}

void Queue::note_created(const std::string& id, TimePoint created) {
  if (auto it = slots_.find(id); it != slots_.end()) {
    it->second.created = created;
  }
}

std::optional<TimePoint> Queue::oldest() const {
  std::optional<TimePoint> out;
  for (const auto& [id, slot] : slots_) {
    if (slot.created != TimePoint{} && (!out || slot.created < *out)) {
      out = slot.created;
    }
  }
  return out;
}

void Queue::schedule(const std::string& id, TimePoint due, bool force) {
  auto [it, inserted] = slots_.try_emplace(id);
  Slot& slot = it->second;
  if (slot.in_flight) {
    slot.rerun = true;
    slot.force = slot.force || force;
    return;
  }
  if (!inserted && !force && slot.due <= due) {
    return;  // already due earlier
  }
  slot.due = due;
  slot.force = slot.force || force;
  heap_.emplace(due, id);
  timer_.cancel();
}

asio::awaitable<void> Queue::run() {
  for (;;) {
    if (stopping_) {
      if (in_flight_ == 0) {
        co_return;
      }
    } else {
      launch_due();
    }
    // Sleep until the earliest due time, and at most kMaxSleep; with nothing waiting or every
    // slot in flight, until something is scheduled or finishes (both cancel the timer).
    std::chrono::steady_clock::duration sleep = kMaxSleep;
    if (!stopping_ && in_flight_ < options_.max_concurrent && !heap_.empty()) {
      TimePoint now = clock_.now();
      TimePoint wake = heap_.top().first;
      if (wake < now + kMaxSleep) {
        sleep = std::max(wake - now, TimePoint::duration::zero());
      }
    }
    timer_.expires_after(sleep);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Queue::launch_due() {
  TimePoint now = clock_.now();
  while (in_flight_ < options_.max_concurrent && !heap_.empty()) {
    const HeapItem& top = heap_.top();
    auto it = slots_.find(top.second);
    if (it == slots_.end() || it->second.in_flight || it->second.due != top.first) {
      heap_.pop();  // stale: rescheduled, in flight or gone
      continue;
    }
    if (top.first > now) {
      break;
    }
    std::string id = top.second;
    heap_.pop();
    it->second.in_flight = true;
    bool force = std::exchange(it->second.force, false);
    ++in_flight_;
    asio::co_spawn(ex_, attempt(id, force),
                   [this, id](std::exception_ptr e, std::optional<TimePoint> next) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         base::log_error() << "id=" << id
                                           << " attempt_failed error=" << base::log_quote(x.what());
                       } catch (...) {
                         base::log_error() << "id=" << id << " attempt_failed error=unknown";
                       }
                       next = hk::queue::next_attempt(clock_.now(), 1, options_.retry,
                                                      std::uniform_real_distribution<>()(rng_));
                     }
                     finish(id, next);
                   });
  }
}

void Queue::finish(const std::string& id, std::optional<TimePoint> next) {
  --in_flight_;
  timer_.cancel();
  auto it = slots_.find(id);
  if (it == slots_.end()) {
    return;
  }
  Slot& slot = it->second;
  slot.in_flight = false;
  if (slot.rerun) {
    slot.rerun = false;
    next = clock_.now();
  }
  if (!next) {
    slots_.erase(it);
    return;
  }
  slot.due = *next;
  heap_.emplace(*next, id);
}

asio::awaitable<std::optional<TimePoint>> Queue::attempt(std::string id, bool force) {
  Envelope env;
  std::string message;
  std::error_code ec = co_await base::offload(
      pool_, [this, &id, &env, &message] { return store_.load(id, env, message); });
  if (ec == std::errc::no_such_file_or_directory) {
    base::log_info() << "id=" << id << " result=gone";  // deleted by the administrator
    co_return std::nullopt;
  }
  if (ec == std::errc::bad_message) {
    base::log_error() << "id=" << id << " result=unreadable error=" << base::log_quote(ec.message())
                      << " path=" << base::log_quote(store_.message_path(id).string());
    co_return std::nullopt;  // left in place for the administrator; not retried
  }
  if (ec) {
    base::log_error() << "id=" << id
                      << " queue_read_failed error=" << base::log_quote(ec.message());
    co_return hk::queue::next_attempt(clock_.now(), 1, options_.retry,
                                      std::uniform_real_distribution<>()(rng_));
  }

  TimePoint now = clock_.now();
  // Recipients postponed last time are due now: their postponement was kept in the slot, not in
  // the state file just read.
  if (auto it = slots_.find(id); it != slots_.end()) {
    it->second.created = env.created;
    for (size_t i : std::exchange(it->second.postponed, {})) {
      if (i < env.rcpts.size() && env.rcpts[i].next_attempt > now) {
        env.rcpts[i].next_attempt = now;
      }
    }
  }
  // Every pending recipient is tried on a flush, and at the delay warning time, so that the
  // warning reports a fresh attempt (see warning_due()).
  std::optional<TimePoint> warn_at = warning_due(env);
  bool all_due = force || (warn_at && *warn_at <= now);
  std::vector<size_t> local_due;
  std::vector<size_t> remote_due;
  for (size_t i = 0; i < env.rcpts.size(); ++i) {
    const Recipient& r = env.rcpts[i];
    if (r.state != RcptState::Pending) {
      continue;
    }
    if (!can_deliver(r)) {
      if (!warned_no_remote_) {
        warned_no_remote_ = true;
        base::log_warn() << "id=" << id << " to=" << base::log_quote(r.address)
                         << " result=waiting reason=\"remote delivery not configured; remote "
                            "recipients stay queued\"";
      }
      continue;
    }
    if (all_due || r.next_attempt <= now) {
      (r.local ? local_due : remote_due).push_back(i);
    }
  }

  std::vector<const Recipient*> failed;
  std::vector<size_t> postponed;
  size_t attempted = 0;
  // TODO(delivery): run the local and remote couriers concurrently once remote delivery exists.
  if (!local_due.empty()) {
    std::vector<DeliveryResult> results =
        co_await local_.deliver(env, pointers(env, local_due), message);
    attempted += record(env, local_, local_due, results, clock_.now(), failed, postponed);
  }
  if (!remote_due.empty()) {
    std::vector<DeliveryResult> results =
        co_await remote_->deliver(env, pointers(env, remote_due), message);
    attempted += record(env, *remote_, remote_due, results, clock_.now(), failed, postponed);
  }
  if (local_due.empty() && remote_due.empty()) {
    if (finished(env)) {
      // Finished before a crash or restart but not yet removed.
      ec = co_await base::offload(pool_, [this, &id] { return store_.remove(id); });
      co_return std::nullopt;
    }
    co_return next_due(env);
  }

  if (!failed.empty()) {
    base::log_info() << "id=" << id << " dsn_needed failed=" << failed.size()
                     << " from=" << base::log_quote(env.from.empty() ? "<>" : env.from);
    if (options_.on_failed) {
      options_.on_failed(env, failed, message);
      log_dsn(env, failed, "failure");
    }
  }

  if (finished(env)) {
    ec = co_await base::offload(pool_, [this, &id] { return store_.remove(id); });
    if (ec) {
      base::log_error() << "id=" << id
                        << " queue_remove_failed error=" << base::log_quote(ec.message());
    } else {
      base::log_info() << "id=" << id << " result=done";
    }
    co_return std::nullopt;
  }
  // Recorded in the same state write as the attempt, before the hook runs (see DelayedHook).
  std::vector<const Recipient*> delayed = take_warning(env, clock_.now());
  if (attempted == 0 && delayed.empty()) {
    // Only postponements (a busy or backing-off destination): nothing of the stored state
    // changed but next_attempt, which the slot keeps instead (Slot::postponed). Not written: a
    // backlog is postponed many times over, and a restart merely brings a postponed message back
    // early (recover() schedules it by the state file).
    if (auto it = slots_.find(id); it != slots_.end()) {
      it->second.postponed = std::move(postponed);
    }
    co_return next_due(env);
  }
  ec = co_await base::offload(pool_, [this, &env] { return store_.save_state(env); });
  if (ec) {
    // The attempt happened; only its record is lost, so a crash now would repeat it.
    base::log_error() << "id=" << id
                      << " queue_state_failed error=" << base::log_quote(ec.message());
  }
  if (!delayed.empty()) {
    if (ec) {
      // Not recorded, so not sent: the next attempt reads the old state and warns then. The
      // envelope in memory stays marked, so next_due() does not bring the attempt straight back.
      base::log_warn() << "id=" << id << " delay_warning_postponed reason=state-not-saved";
    } else {
      base::log_debug() << "id=" << id << " delay_warning_needed pending=" << delayed.size()
                        << " from=" << base::log_quote(env.from);
      options_.on_delayed(env, delayed, env.created + options_.lifetime, message);
      log_dsn(env, delayed, "delay warning");
    }
  }
  co_return next_due(env);
}

void Queue::log_dsn(const Envelope& env, const std::vector<const Recipient*>& rcpts,
                    const char* what) {
  // No DSN for the null sender (RFC 3464 §2): the hooks return without one.
  if (options_.log == nullptr || env.from.empty()) {
    return;
  }
  const TimePoint now = clock_.now();
  for (const Recipient* r : rcpts) {
    // The route of the recipient the sender is told about, as its delivery events have it.
    Route via = r->local || remote_ == nullptr ? local_.route(*r) : remote_->route(*r);
    options_.log->add({now, env.id, r->address, via, EventResult::Dsn,
                       std::string(what) + " DSN to " + env.from});
  }
}

size_t Queue::record(Envelope& env, const Courier& courier, const std::vector<size_t>& index,
                     const std::vector<DeliveryResult>& results, TimePoint now,
                     std::vector<const Recipient*>& failed, std::vector<size_t>& postponed) {
  TimePoint expiry = env.created + options_.lifetime;
  size_t attempted = 0;
  for (size_t k = 0; k < index.size(); ++k) {
    Recipient& r = env.rcpts[index[k]];
    // RFC 3463 §3.4: 4.3.0, other or undefined mail system status.
    DeliveryResult res = k < results.size() ? results[k]
                                            : DeliveryResult{DeliveryResult::Status::Transient, 451,
                                                             "4.3.0", "no result from the courier"};
    if (res.postponed() && res.status == DeliveryResult::Status::Transient && now < expiry) {
      // Not tried (the destination backs off or is busy): no attempt is counted and the retry
      // schedule stays where it was; the last reply of a real attempt is kept.
      r.next_attempt = std::min(std::max(res.postponed_until, now), expiry);
      postponed.push_back(index[k]);
      if (!res.postponed_for.empty()) {
        std::deque<std::string>& line = waiting_[res.postponed_for];
        if (line.empty() || line.back() != env.id) {
          line.push_back(env.id);
        }
      }
      // Debug only: a backlog to a busy destination is postponed again and again, and the
      // destination's own back-off is logged once by the courier.
      base::log_debug() << "id=" << env.id << " to=" << base::log_quote(r.address)
                        << " result=postponed attempts=" << r.attempts << " next_in="
                        << std::chrono::ceil<std::chrono::seconds>(r.next_attempt - now).count()
                        << "s reason=" << base::log_quote(res.line());
      continue;
    }
    ++attempted;
    r.attempts += 1;
    r.last_code = res.code;
    r.last_enhanced = res.enhanced;
    r.last_text = res.text;
    const char* outcome = "deferred";
    EventResult event = EventResult::Deferred;
    bool expired = false;
    switch (res.status) {
      case DeliveryResult::Status::Delivered:
        r.state = RcptState::Delivered;
        outcome = "delivered";
        event = EventResult::Delivered;
        if (options_.metrics != nullptr) {
          options_.metrics->delay.observe(now - env.created);
        }
        break;
      case DeliveryResult::Status::Permanent:
        r.state = RcptState::Failed;
        outcome = "failed";
        event = EventResult::Bounced;
        break;
      case DeliveryResult::Status::Transient:
        if (now >= expiry) {
          r.state = RcptState::Failed;
          outcome = "failed";
          event = EventResult::Expired;
          expired = true;
          if (options_.metrics != nullptr) {
            options_.metrics->expired.inc();
          }
        } else {
          // The last retry falls at the expiry time at the latest, so a message always gets a
          // final attempt at the end of its lifetime rather than failing unattempted.
          r.next_attempt =
              std::min(hk::queue::next_attempt(now, r.attempts, options_.retry,
                                               std::uniform_real_distribution<>()(rng_)),
                       expiry);
        }
        break;
    }
    if (r.state == RcptState::Failed) {
      failed.push_back(&r);
    }
    auto log = base::log_info();
    // "-" for our own error texts, which have no reply code.
    log << "id=" << env.id << " to=" << base::log_quote(r.address) << " result=" << outcome
        << " code=" << (res.code != 0 ? std::to_string(res.code) : std::string("-"))
        << " attempts=" << r.attempts;
    if (expired) {
      log << " reason=expired";
    }
    if (r.state == RcptState::Pending) {
      log << " next_in=" << std::chrono::ceil<std::chrono::seconds>(r.next_attempt - now).count()
          << "s";
    }
    std::string line = res.line();
    log << " reply=" << base::log_quote(line);
    if (options_.log != nullptr) {
      options_.log->add({now, env.id, r.address, courier.route(r), event, std::move(line)});
    }
  }
  return attempted;
}

std::optional<TimePoint> Queue::next_due(const Envelope& env) const {
  std::optional<TimePoint> due;
  for (const Recipient& r : env.rcpts) {
    if (r.state == RcptState::Pending && can_deliver(r) && (!due || r.next_attempt < *due)) {
      due = r.next_attempt;
    }
  }
  // warning_due() is set only when some recipient is pending and deliverable, i.e. with `due`.
  std::optional<TimePoint> warn_at = warning_due(env);
  if (due && warn_at && *warn_at < *due) {
    due = warn_at;
  }
  return due;
}

// The delay warning (Postfix's delay_warning_time). A message is due one when warnings are on,
// its sender is not null <> (no DSN for a DSN, RFC 3464 §2), it has not had one yet and it still
// has recipients pending that are being retried; it is due at created + delay_warning.
//
// When it fires: the check runs after each attempt has been recorded. As the next retry can lie
// far past the warning time (with the default schedule the attempts around a 4h warning fall at
// 3h50 and 7h50), the warning time is also a due time of the message in next_due(): the queue
// then tries every pending recipient once more, and warns about those still pending afterwards.
// So the sender hears at the warning time (give or take the scheduler's latency) and with the
// status of an attempt just made, not a whole retry interval late or from a stale reply.
std::optional<TimePoint> Queue::warning_due(const Envelope& env) const {
  if (!options_.on_delayed || options_.delay_warning <= std::chrono::seconds(0) ||
      options_.delay_warning >= options_.lifetime || env.from.empty() ||
      env.delay_warned != TimePoint{}) {
    return std::nullopt;
  }
  bool pending = std::any_of(env.rcpts.begin(), env.rcpts.end(), [this](const Recipient& r) {
    return r.state == RcptState::Pending && can_deliver(r);
  });
  if (!pending) {
    return std::nullopt;
  }
  return env.created + options_.delay_warning;
}

// The recipients to warn about when the warning is due at `now`, and marks `env` as warned;
// empty otherwise. Recipients that cannot be delivered (no remote courier) are not being
// retried, so they are not reported as delayed.
std::vector<const Recipient*> Queue::take_warning(Envelope& env, TimePoint now) const {
  std::vector<const Recipient*> pending;
  std::optional<TimePoint> warn_at = warning_due(env);
  if (!warn_at || *warn_at > now) {
    return pending;
  }
  for (const Recipient& r : env.rcpts) {
    if (r.state == RcptState::Pending && can_deliver(r)) {
      pending.push_back(&r);
    }
  }
  env.delay_warned = now;
  return pending;
}

asio::awaitable<void> Queue::recover() {
  std::vector<std::string> ids = co_await base::offload(pool_, [this] { return store_.list(); });
  struct Found {
    std::string id;
    std::optional<TimePoint> due;
    TimePoint created;
    bool waiting_remote = false;  // pending recipients for which no courier exists
    bool leftover = false;        // nothing pending: finished before a restart
  };
  size_t scheduled = 0;
  size_t unreadable = 0;
  size_t waiting_remote = 0;
  for (size_t begin = 0; begin < ids.size(); begin += kRecoverChunk) {
    size_t end = std::min(begin + kRecoverChunk, ids.size());
    std::vector<Found> found = co_await base::offload(pool_, [this, &ids, begin, end] {
      std::vector<Found> out;
      for (size_t i = begin; i < end; ++i) {
        Envelope env;
        if (std::error_code ec = store_.load_envelope(ids[i], env)) {
          if (ec != std::errc::no_such_file_or_directory) {
            base::log_error() << "id=" << ids[i]
                              << " result=unreadable error=" << base::log_quote(ec.message());
          }
          continue;
        }
        Found f{ids[i], next_due(env), env.created};
        f.leftover = finished(env);
        f.waiting_remote = !f.leftover && !f.due;
        if (f.leftover) {
          store_.remove(ids[i]);
        }
        out.push_back(std::move(f));
      }
      return out;
    });
    unreadable += (end - begin) - found.size();
    for (const Found& f : found) {
      if (f.due) {
        schedule(f.id, *f.due, false);
        note_created(f.id, f.created);
        ++scheduled;
      } else if (f.waiting_remote) {
        ++waiting_remote;
      }
    }
  }
  base::log_info() << "queue: recovered messages=" << ids.size() << " scheduled=" << scheduled
                   << " waiting_remote=" << waiting_remote << " unreadable=" << unreadable;
}

}  // namespace hk::queue
