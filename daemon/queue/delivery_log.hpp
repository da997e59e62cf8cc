// DeliveryLog: the last N delivery events in memory (a ring), for the console's log page: when,
// which message and recipient, by which route, what came of it and the reply. The queue runner
// adds one event per recorded outcome; nothing is written to disk (the log lines are the record).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/queue/courier.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::queue {

enum class EventResult { Delivered, Deferred, Bounced, Expired, Dsn };

std::string_view to_string(Route route);
std::string_view to_string(EventResult result);

struct DeliveryEvent {
  TimePoint time;
  std::string id;         // the queue ID
  std::string recipient;  // the final address
  Route via = Route::Mx;
  EventResult result = EventResult::Deferred;
  std::string reply;  // the one-line reply ("451 4.7.1 greylisted"), or our error text
};

// Single-threaded: used on the queue's executor (the I/O thread), no lock. Adding an event moves
// it into a slot allocated once: no allocation of the ring itself on the hot path.
class DeliveryLog {
 public:
  explicit DeliveryLog(size_t capacity);

  // A new capacity (a reload of [console] log_events); the newest events are kept. 0 keeps none.
  void set_capacity(size_t capacity);
  size_t capacity() const { return slots_.size(); }
  size_t size() const { return count_; }

  void add(DeliveryEvent event);
  // Up to `limit` events, newest first; only those of queue ID `id` when it is not empty.
  std::vector<DeliveryEvent> recent(std::string_view id, size_t limit) const;

 private:
  std::vector<DeliveryEvent> slots_;
  size_t next_ = 0;   // the slot the next event goes to
  size_t count_ = 0;  // events held, up to slots_.size()
};

}  // namespace hk::queue
