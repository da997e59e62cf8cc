// DeliveryMetrics: the delivery counters and histograms — outcomes and attempt durations per
// transport, recipients that expired in the queue, and the delay from acceptance to delivery —
// registered once by the daemon and handed to the couriers and the queue runner.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
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

// The TLS of an outgoing SMTP connection, as the operator asks about it: none, encrypted without
// an authenticated peer, verified by the system roots, by DANE (RFC 7672), or verified under an
// MTA-STS policy in mode enforce (RFC 8461), which is the stronger claim of the two.
enum class TlsLevel { Plain, Unverified, Verified, Dane, MtaSts };
inline constexpr size_t kTlsLevels = 5;
const char* to_string(TlsLevel level);

// Remote replies by class (RFC 5321 §4.2.1: the first digit), or none when the attempt ended
// without a reply of the remote server (connection failures, our own refusals).
enum class ReplyClass { Positive, Transient, Permanent, None };
inline constexpr size_t kReplyClasses = 4;
ReplyClass reply_class(int code);

// What only remote transports (mx, relay) have: the TLS of each transaction and the class of
// each recipient's reply.
struct RemoteMetrics {
  std::array<metrics::Counter*, kTlsLevels> tls;
  std::array<metrics::Counter*, kReplyClasses> replies;

  void transaction(TlsLevel level) const { tls[static_cast<size_t>(level)]->inc(); }
  // One per recipient result of an attempt (postponed results are no attempt: not counted).
  void record_replies(const std::vector<DeliveryResult>& results) const;
};

struct DeliveryMetrics {
  TransportMetrics maildir;    // local mailboxes, from the queue and straight from the session
  TransportMetrics mx;         // the recipient domain's MX hosts (RFC 5321 §5.1)
  TransportMetrics relay;      // a configured smart host
  metrics::Counter& expired;   // recipients failed because their queue lifetime ended
  metrics::Histogram& delay;   // acceptance to delivery, for recipients delivered from the queue
  RemoteMetrics mx_remote;     // via="mx"
  RemoteMetrics relay_remote;  // via="relay"
};

// Registers every delivery series (all at zero until used) and returns their handles.
DeliveryMetrics register_delivery_metrics(metrics::Registry& reg);

}  // namespace hk::queue
