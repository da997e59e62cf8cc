// DeliveryMetrics: the delivery counters and histograms — outcomes and attempt durations per
// transport, recipients that expired in the queue, and the delay from acceptance to delivery —
// registered once by the daemon and handed to the couriers and the queue runner.
#pragma once

#include <chrono>
#include <vector>

#include "lib/metrics/registry.hpp"
#include "lib/queue/delivery_result.hpp"

namespace hk::queue {

// The handles of one transport (label via="maildir", "mx" or "relay").
struct TransportMetrics {
  metrics::Counter& delivered;
  metrics::Counter& deferred;
  metrics::Counter& bounced;
  metrics::Histogram& duration;

  // Counts one attempt: each recipient's result by its status, and the attempt's duration.
  void record(const std::vector<DeliveryResult>& results,
              std::chrono::steady_clock::duration took) const;
};

struct DeliveryMetrics {
  TransportMetrics maildir;   // local mailboxes, from the queue and straight from the session
  TransportMetrics mx;        // the recipient domain's MX hosts (RFC 5321 §5.1)
  TransportMetrics relay;     // a configured smart host
  metrics::Counter& expired;  // recipients failed because their queue lifetime ended
  metrics::Histogram& delay;  // acceptance to delivery, for recipients delivered from the queue
};

// Registers every delivery series (all at zero until used) and returns their handles.
DeliveryMetrics register_delivery_metrics(metrics::Registry& reg);

}  // namespace hk::queue
