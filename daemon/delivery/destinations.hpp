// Destinations: traffic shaping per destination — connections at once per destination (a recipient
// domain, or a smart host) and per MX address, messages a minute per destination, and the back-off
// of a destination that answered with a rate or reputation deferral (421, 4.7.x). Deliveries ask
// it before they connect; what may not go now is postponed, never waited for long, so that mail to
// other destinations keeps the queue's global delivery slots (docs/delivery.md).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/base/clock.hpp"
#include "lib/metrics/registry.hpp"
#include "lib/queue/delivery_result.hpp"

namespace hk::delivery {

struct ShapingLimits {
  std::size_t per_host = 5;     // connections at once to one MX address
  std::size_t per_domain = 10;  // connections at once to one destination
  std::size_t rate = 0;         // messages a minute to one destination; 0 = no limit
  std::chrono::seconds backoff_min{60};
  std::chrono::seconds backoff_max{3600};
  // How long a delivery waits for a connection slot before it is postponed instead, and how far
  // an MX address that stays full puts its delivery off.
  std::chrono::milliseconds slot_wait{2000};
  std::chrono::seconds busy_retry{5};
};

struct DestinationMetrics {
  metrics::Gauge& backing_off;  // destinations not back to normal pace since a deferral
  metrics::Counter& throttled;  // rate or reputation deferrals received
  metrics::Counter& postponed;  // deliveries postponed without a connection
};
DestinationMetrics register_destination_metrics(metrics::Registry& reg);

// Whether a reply of the remote server asks us to slow down: a 421 at any stage (RFC 5321 §3.8:
// the service is closing the channel) or a 4xx with an enhanced code of class 4.7 (RFC 3463 §3.8,
// security or policy: Gmail's 421 4.7.28, Outlook's 451 4.7.650, Yahoo's 421 4.7.0, greylisting's
// 451 4.7.1). Other 4xx codes speak of one recipient or of the message (452 4.5.3 too many
// recipients, 450 4.2.1 a mailbox receiving too fast, 452 4.2.2 mailbox full): no back-off.
bool is_throttle_reply(int code, std::string_view enhanced);

// Single-threaded: every call on the executor's thread. Time for the back-off and the rate comes
// from `clock` (tests: a ManualClock); waits for a slot are real time.
class Destinations {
 public:
  // `state_file` (empty: memory only) keeps the back-offs across restarts, for `queue list` too.
  Destinations(boost::asio::any_io_executor ex, const base::Clock& clock, ShapingLimits limits,
               std::filesystem::path state_file, const DestinationMetrics* metrics = nullptr);
  Destinations(const Destinations&) = delete;
  Destinations& operator=(const Destinations&) = delete;
  ~Destinations();

  void reconfigure(const ShapingLimits& limits);
  // Called (on the executor) with a destination's name whenever one of its connection slots is
  // freed and no delivery waits for it here: the queue then sends one of the deliveries it
  // postponed for that destination (DeliveryResult::postponed_for).
  std::function<void(const std::string& destination)> on_free;

  // A connection slot, held while it lives.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), key_(std::move(o.key_)) {}
    Slot& operator=(Slot&& o) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    void release();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class Destinations;
    Slot(Destinations* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    Destinations* owner_ = nullptr;
    std::string key_;
  };

  // The go-ahead for one delivery to `destination`: a slot, or, when the destination backs off,
  // is over its rate or stays full, the result to give its recipients instead (a postponement).
  struct Admission {
    Slot slot;
    queue::DeliveryResult postponed;  // meaningful when !slot
  };
  boost::asio::awaitable<Admission> admit(const std::string& destination);
  // A slot for one MX address (its text form); none when it stayed full for slot_wait.
  boost::asio::awaitable<Slot> host_slot(const std::string& address);

  // What a delivery that began at `started` came to: a deferral that asks us to slow down, or a
  // message accepted.
  void throttled(const std::string& destination, base::TimePoint started, std::string reply);
  void succeeded(const std::string& destination, base::TimePoint started);

  // When `destination` backs off, until when; for tests and logs.
  std::optional<base::TimePoint> backoff_until(const std::string& destination) const;
  std::size_t in_use_for_test(const std::string& key) const;

 private:
  struct Waiter {
    boost::asio::steady_timer* timer;
    bool granted = false;
  };
  struct Key {  // a destination ("d:NAME") or an MX address ("h:ADDR")
    std::size_t in_use = 0;
    std::deque<Waiter*> waiters;
    // Destinations only:
    unsigned level = 0;  // deferrals in a row; 0: normal pace
    base::TimePoint since{}, until{};
    std::string reply;
    bool probing = false;         // back-off over, no success yet: one connection at a time
    base::TimePoint next_send{};  // the rate's next free moment
  };

  boost::asio::awaitable<bool> acquire(const std::string& key, std::size_t limit);
  void release(const std::string& key);
  std::size_t limit_of(const std::string& key, const Key& k) const;
  queue::DeliveryResult postpone(base::TimePoint until, std::string why);
  void wake_all(Key& k);
  void forget_if_idle(const std::string& key);
  void changed();  // saves the file and the gauge
  void load();

  boost::asio::any_io_executor ex_;
  const base::Clock& clock_;
  ShapingLimits limits_;
  std::filesystem::path state_file_;
  const DestinationMetrics* metrics_;
  std::unordered_map<std::string, Key> keys_;
};

}  // namespace hk::delivery
