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

RemoteMetrics remote(metrics::Registry& reg, const char* via) {
  RemoteMetrics m{};
  for (size_t i = 0; i < kTlsLevels; ++i) {
    m.tls[i] = &reg.counter("hikyaku_delivery_tls_total",
                            "Outgoing SMTP transactions (after a successful connection), by "
                            "transport and TLS level: plain, unverified, verified, dane, mta-sts.",
                            {{"via", via}, {"level", to_string(static_cast<TlsLevel>(i))}});
  }
  static constexpr const char* kClasses[kReplyClasses] = {"2xx", "4xx", "5xx", "none"};
  for (size_t i = 0; i < kReplyClasses; ++i) {
    m.replies[i] = &reg.counter(
        "hikyaku_delivery_replies_total",
        "Recipient results of outgoing delivery attempts, by transport and class of the remote "
        "reply (RFC 5321 §4.2.1); none: no reply of the remote server (e.g. connection failed).",
        {{"via", via}, {"class", kClasses[i]}});
  }
  return m;
}

}  // namespace

const char* to_string(TlsLevel level) {
  switch (level) {
    case TlsLevel::Plain:
      return "plain";
    case TlsLevel::Unverified:
      return "unverified";
    case TlsLevel::Verified:
      return "verified";
    case TlsLevel::Dane:
      return "dane";
    case TlsLevel::MtaSts:
      return "mta-sts";
  }
  return "plain";
}

ReplyClass reply_class(int code) {
  switch (code / 100) {
    case 2:
      return ReplyClass::Positive;
    case 4:
      return ReplyClass::Transient;
    case 5:
      return ReplyClass::Permanent;
    default:
      return ReplyClass::None;  // 0: our own text; a 1xx or 3xx never ends an attempt
  }
}

void RemoteMetrics::record_replies(const std::vector<DeliveryResult>& results) const {
  for (const DeliveryResult& r : results) {
    replies[static_cast<size_t>(reply_class(r.code))]->inc();
  }
}

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
      .mx_remote = remote(reg, "mx"),
      .relay_remote = remote(reg, "relay"),
  };
}

}  // namespace hk::queue
