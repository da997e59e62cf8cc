// DeliveryMetrics: names, help texts and buckets of the delivery metrics.
#include "daemon/queue/delivery_metrics.hpp"

namespace hk::queue {

namespace {

TransportMetrics transport(metrics::Registry& reg, const char* via) {
  metrics::Labels labels = {{"via", via}};
  return TransportMetrics{
      .delivered = reg.counter(
          "hikyaku_delivered_total",
          "Recipients delivered, by transport (maildir: local mailboxes; mx; relay).", labels),
      .deferred = reg.counter("hikyaku_deferred_total",
                              "Recipients whose delivery attempt failed temporarily and will be "
                              "retried unless their queue lifetime is over, by transport.",
                              labels),
      .bounced =
          reg.counter("hikyaku_bounced_total",
                      "Recipients refused for good (a permanent failure), by transport.", labels),
      .duration = reg.histogram(
          "hikyaku_delivery_duration_seconds",
          "Duration of delivery attempts from the queue: one SMTP transaction per destination "
          "for mx and relay, one batch of mailboxes for maildir.",
          metrics::duration_buckets(), labels),
  };
}

}  // namespace

void TransportMetrics::record(const std::vector<DeliveryResult>& results,
                              std::chrono::steady_clock::duration took) const {
  for (const DeliveryResult& r : results) {
    switch (r.status) {
      case DeliveryResult::Status::Delivered:
        delivered.inc();
        break;
      case DeliveryResult::Status::Transient:
        deferred.inc();
        break;
      case DeliveryResult::Status::Permanent:
        bounced.inc();
        break;
    }
  }
  duration.observe(took);
}

DeliveryMetrics register_delivery_metrics(metrics::Registry& reg) {
  // From seconds (the first attempt) to the default queue lifetime of five days (RFC 5321
  // §4.5.4.1 suggests 4-5 days).
  std::vector<double> delay_buckets = {1,     10,    60,    300,    900,   3600,
                                       14400, 43200, 86400, 172800, 432000};
  return DeliveryMetrics{
      .maildir = transport(reg, "maildir"),
      .mx = transport(reg, "mx"),
      .relay = transport(reg, "relay"),
      .expired = reg.counter("hikyaku_expired_total",
                             "Recipients failed because they were still undelivered at the end "
                             "of their queue lifetime."),
      .delay = reg.histogram("hikyaku_delivery_delay_seconds",
                             "Time from acceptance to delivery, for recipients delivered by the "
                             "queue runner.",
                             std::move(delay_buckets)),
  };
}

}  // namespace hk::queue
