// Destinations: connection slots, rate and back-off per destination.
#include "daemon/delivery/destinations.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

#include "lib/base/files.hpp"
#include "lib/base/log.hpp"
#include "lib/queue/backoff_file.hpp"

namespace hk::delivery {

namespace asio = boost::asio;
using queue::DeliveryResult;

namespace {

std::string dest_key(const std::string& destination) { return "d:" + destination; }
std::string host_key(const std::string& address) { return "h:" + address; }
bool is_dest(const std::string& key) { return key.rfind("d:", 0) == 0; }

int64_t seconds_between(base::TimePoint from, base::TimePoint to) {
  return std::chrono::ceil<std::chrono::seconds>(to - from).count();
}

}  // namespace

DestinationMetrics register_destination_metrics(metrics::Registry& reg) {
  return DestinationMetrics{
      .backing_off = reg.gauge("hikyaku_destinations_backoff",
                               "Destinations (recipient domains or smart hosts) backing off after "
                               "a rate or reputation deferral (421, 4.7.x): waiting, or trying "
                               "one connection at a time, until a delivery to them succeeds."),
      .throttled = reg.counter("hikyaku_throttle_replies_total",
                               "Rate or reputation deferrals received (421, or 4xx with 4.7.x)."),
      .postponed = reg.counter("hikyaku_delivery_postponed_total",
                               "Deliveries not tried because their destination backed off, was "
                               "at its rate or stayed at its connection limit."),
  };
}

bool is_throttle_reply(int code, std::string_view enhanced) {
  if (code == 421) {
    return true;
  }
  return code / 100 == 4 && enhanced.rfind("4.7.", 0) == 0;
}

Destinations::Slot& Destinations::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = std::exchange(o.owner_, nullptr);
    key_ = std::move(o.key_);
  }
  return *this;
}

void Destinations::Slot::release() {
  if (owner_ != nullptr) {
    std::exchange(owner_, nullptr)->release(key_);
  }
}

Destinations::Destinations(asio::any_io_executor ex, const base::Clock& clock, ShapingLimits limits,
                           std::filesystem::path state_file, const DestinationMetrics* metrics)
    : ex_(std::move(ex)),
      clock_(clock),
      limits_(limits),
      state_file_(std::move(state_file)),
      metrics_(metrics) {
  load();
}

Destinations::~Destinations() = default;

void Destinations::reconfigure(const ShapingLimits& limits) { limits_ = limits; }

void Destinations::load() {
  if (state_file_.empty()) {
    return;
  }
  std::string text;
  if (std::error_code ec = base::read_file(state_file_, text)) {
    if (ec != std::errc::no_such_file_or_directory) {
      base::log_warn() << "destinations: cannot read " << base::log_quote(state_file_.string())
                       << " error=" << base::log_quote(ec.message());
    }
    return;
  }
  for (queue::Backoff& b : queue::parse_backoffs(text)) {
    Key& k = keys_[dest_key(b.destination)];
    k.level = std::max(b.level, 1u);
    k.since = b.since;
    k.until = b.until;
    k.reply = std::move(b.reply);
    k.probing = true;
    base::log_info() << "destination=" << b.destination
                     << " result=backoff restored level=" << k.level
                     << " until_in=" << seconds_between(clock_.now(), k.until) << "s";
  }
  changed();
}

std::size_t Destinations::limit_of(const std::string& key, const Key& k) const {
  if (!is_dest(key)) {
    return std::max<std::size_t>(limits_.per_host, 1);
  }
  // Just out of a back-off: one connection finds out whether the destination takes mail again.
  return k.probing ? 1 : std::max<std::size_t>(limits_.per_domain, 1);
}

asio::awaitable<bool> Destinations::acquire(const std::string& key, std::size_t limit) {
  Key& k = keys_[key];
  if (k.in_use < limit && k.waiters.empty()) {
    ++k.in_use;
    co_return true;
  }
  // At most as many waiters as slots: the rest are postponed at once, so that a destination with
  // much mail never holds more than twice its connection limit of the queue's delivery slots.
  if (k.waiters.size() >= limit) {
    co_return false;
  }
  asio::steady_timer timer(ex_, limits_.slot_wait);
  Waiter w{&timer};
  k.waiters.push_back(&w);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  // `k` may have moved since (the map rehashed): look it up again.
  Key& again = keys_[key];
  auto it = std::find(again.waiters.begin(), again.waiters.end(), &w);
  if (it != again.waiters.end()) {
    again.waiters.erase(it);
  }
  co_return w.granted;  // a granted slot was handed over by release(): in_use already counts it
}

void Destinations::release(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    return;
  }
  Key& k = it->second;
  // Hand the slot straight to the first waiter if the limit still allows it.
  if (!k.waiters.empty() && k.in_use <= limit_of(key, k)) {
    Waiter* w = k.waiters.front();
    k.waiters.pop_front();
    w->granted = true;
    w->timer->cancel();
    return;
  }
  if (k.in_use > 0) {
    --k.in_use;
  }
  forget_if_idle(key);
  if (on_free && is_dest(key)) {
    on_free(key.substr(2));
  }
}

void Destinations::wake_all(Key& k) {
  for (Waiter* w : k.waiters) {
    w->timer->cancel();  // not granted: they look again and are postponed
  }
  k.waiters.clear();
}

void Destinations::forget_if_idle(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    return;
  }
  const Key& k = it->second;
  const base::TimePoint now = clock_.now();
  if (k.in_use == 0 && k.waiters.empty() && k.level == 0 && k.next_send <= now) {
    keys_.erase(it);
  }
}

DeliveryResult Destinations::postpone(base::TimePoint until, std::string why) {
  if (metrics_ != nullptr) {
    metrics_->postponed.inc();
  }
  DeliveryResult r{DeliveryResult::Status::Transient, 0, "", std::move(why)};
  r.postponed_until = until;
  return r;
}

asio::awaitable<Destinations::Admission> Destinations::admit(const std::string& destination) {
  const std::string key = dest_key(destination);
  Admission out;
  base::TimePoint now = clock_.now();
  {
    Key& k = keys_[key];
    if (k.until > now) {
      out.postponed = postpone(k.until, destination + " is backing off after \"" + k.reply + "\"");
      co_return out;
    }
    if (limits_.rate > 0 && k.next_send > now) {
      out.postponed = postpone(k.next_send, destination + " is at its rate of " +
                                                std::to_string(limits_.rate) + " a minute");
      co_return out;
    }
  }
  bool got = co_await acquire(key, limit_of(key, keys_[key]));
  now = clock_.now();
  Key& k = keys_[key];
  if (got && k.until > now) {
    // A back-off began while we waited.
    Slot(this, key).release();
    got = false;
  }
  if (!got) {
    if (k.until > now) {
      out.postponed = postpone(k.until, destination + " is backing off after \"" + k.reply + "\"");
    } else {
      // Sent again as soon as the destination frees a connection (on_free), and after
      // busy_retry at the latest: woken by events, a backlog moves at the pace the destination
      // takes it, whatever a transaction's duration.
      out.postponed =
          postpone(now + limits_.busy_retry, destination + " is at its connection limit");
      out.postponed.postponed_for = destination;
    }
    forget_if_idle(key);
    co_return out;
  }
  if (limits_.rate > 0) {
    // Evenly spaced: one message every 60/rate seconds.
    auto gap = std::chrono::duration_cast<base::TimePoint::duration>(std::chrono::minutes(1)) /
               static_cast<int64_t>(limits_.rate);
    k.next_send = std::max(k.next_send, now) + gap;
  }
  out.slot = Slot(this, key);
  co_return out;
}

asio::awaitable<Destinations::Slot> Destinations::host_slot(const std::string& address) {
  const std::string key = host_key(address);
  bool got = co_await acquire(key, limit_of(key, keys_[key]));
  if (!got) {
    forget_if_idle(key);
    co_return Slot();
  }
  co_return Slot(this, key);
}

void Destinations::throttled(const std::string& destination, base::TimePoint started,
                             std::string reply) {
  if (metrics_ != nullptr) {
    metrics_->throttled.inc();
  }
  base::TimePoint now = clock_.now();
  Key& k = keys_[dest_key(destination)];
  if (k.until > now && started < k.since) {
    return;  // a delivery begun before the back-off: already answered for
  }
  k.level = std::min(k.level + 1, 31u);
  std::chrono::seconds delay = limits_.backoff_min;
  for (unsigned i = 1; i < k.level && delay < limits_.backoff_max; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, limits_.backoff_max);
  k.since = now;
  k.until = now + delay;
  k.reply = std::move(reply);
  k.probing = true;
  base::log_info() << "destination=" << destination << " result=backoff delay=" << delay.count()
                   << "s level=" << k.level << " reply=" << base::log_quote(k.reply);
  wake_all(k);
  changed();
}

void Destinations::succeeded(const std::string& destination, base::TimePoint started) {
  auto it = keys_.find(dest_key(destination));
  if (it == keys_.end() || it->second.level == 0) {
    return;
  }
  Key& k = it->second;
  if (started < k.since) {
    return;  // begun before the last deferral: says nothing about now
  }
  base::log_info() << "destination=" << destination << " result=backoff-ended level=" << k.level;
  k.level = 0;
  k.until = {};
  k.since = {};
  k.reply.clear();
  k.probing = false;
  changed();
}

std::optional<base::TimePoint> Destinations::backoff_until(const std::string& destination) const {
  auto it = keys_.find(dest_key(destination));
  if (it == keys_.end() || it->second.until <= clock_.now()) {
    return std::nullopt;
  }
  return it->second.until;
}

std::size_t Destinations::in_use_for_test(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? 0 : it->second.in_use;
}

void Destinations::changed() {
  std::vector<queue::Backoff> list;
  int64_t active = 0;
  for (const auto& [key, k] : keys_) {
    if (!is_dest(key) || k.level == 0) {
      continue;
    }
    list.push_back({key.substr(2), k.level, k.since, k.until, k.reply});
    ++active;
  }
  if (metrics_ != nullptr) {
    metrics_->backing_off.set(active);
  }
  if (state_file_.empty()) {
    return;
  }
  std::sort(list.begin(), list.end(), [](const queue::Backoff& a, const queue::Backoff& b) {
    return a.destination < b.destination;
  });
  // On the I/O thread, as the MTA-STS cache: a back-off begins or ends at most a few times a
  // minute, and the file is small.
  if (std::error_code ec = base::write_file_atomic(state_file_, queue::format_backoffs(list))) {
    base::log_warn() << "destinations: cannot write " << base::log_quote(state_file_.string())
                     << " error=" << base::log_quote(ec.message());
  }
}

}  // namespace hk::delivery
