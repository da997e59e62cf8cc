// DeliveryLog: the ring of recent delivery events.
#include "daemon/queue/delivery_log.hpp"

#include <algorithm>
#include <utility>

namespace hk::queue {

std::string_view to_string(Route route) {
  switch (route) {
    case Route::Maildir:
      return "maildir";
    case Route::Mx:
      return "mx";
    case Route::Relay:
      return "relay";
  }
  return "mx";
}

std::string_view to_string(EventResult result) {
  switch (result) {
    case EventResult::Delivered:
      return "delivered";
    case EventResult::Deferred:
      return "deferred";
    case EventResult::Bounced:
      return "bounced";
    case EventResult::Expired:
      return "expired";
    case EventResult::Dsn:
      return "dsn";
  }
  return "deferred";
}

DeliveryLog::DeliveryLog(size_t capacity) : slots_(capacity) {}

void DeliveryLog::set_capacity(size_t capacity) {
  if (capacity == slots_.size()) {
    return;
  }
  // Oldest to newest, the newest `capacity` of them.
  std::vector<DeliveryEvent> kept;
  const size_t keep = std::min(count_, capacity);
  kept.reserve(capacity);
  for (size_t k = keep; k > 0; --k) {
    size_t i = (next_ + slots_.size() - k) % slots_.size();
    kept.push_back(std::move(slots_[i]));
  }
  count_ = kept.size();
  kept.resize(capacity);
  slots_ = std::move(kept);
  next_ = capacity == 0 ? 0 : count_ % capacity;
}

void DeliveryLog::add(DeliveryEvent event) {
  if (slots_.empty()) {
    return;
  }
  slots_[next_] = std::move(event);
  next_ = (next_ + 1) % slots_.size();
  count_ = std::min(count_ + 1, slots_.size());
}

std::vector<DeliveryEvent> DeliveryLog::recent(std::string_view id, size_t limit) const {
  std::vector<DeliveryEvent> out;
  for (size_t k = 1; k <= count_ && out.size() < limit; ++k) {
    const DeliveryEvent& e = slots_[(next_ + slots_.size() - k) % slots_.size()];
    if (id.empty() || e.id == id) {
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace hk::queue
