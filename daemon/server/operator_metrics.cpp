// OperatorMetrics: names, help texts and labels.
#include "daemon/server/operator_metrics.hpp"

namespace hk::server {

namespace {

constexpr const char* kReloads = "hikyaku_reloads_total";
constexpr const char* kReloadsHelp =
    "Reloads by what was re-read and result: ok (the new state is in service) or kept-old (it "
    "failed to load and the previous state stays).";
constexpr const char* kDsn = "hikyaku_dsn_sent_total";
constexpr const char* kDsnHelp =
    "Delivery status notifications (RFC 3464) queued to senders, by kind: failure (a bounce) or "
    "delay (a delay warning).";

}  // namespace

const char* to_string(ReloadWhat what) {
  switch (what) {
    case ReloadWhat::Certs:
      return "certs";
    case ReloadWhat::Dkim:
      return "dkim";
    case ReloadWhat::Domains:
      return "domains";
    case ReloadWhat::Config:
      return "config";
    case ReloadWhat::Srs:
      return "srs";
  }
  return "config";
}

void OperatorMetrics::reload(ReloadWhat what, bool ok) const {
  (ok ? reloads_ok : reloads_kept_old)[static_cast<size_t>(what)]->inc();
}

OperatorMetrics register_operator_metrics(metrics::Registry& reg) {
  std::array<metrics::Counter*, kReloadWhats> ok{};
  std::array<metrics::Counter*, kReloadWhats> kept{};
  for (size_t i = 0; i < kReloadWhats; ++i) {
    const char* what = to_string(static_cast<ReloadWhat>(i));
    ok[i] = &reg.counter(kReloads, kReloadsHelp, {{"what", what}, {"result", "ok"}});
    kept[i] = &reg.counter(kReloads, kReloadsHelp, {{"what", what}, {"result", "kept-old"}});
  }
  OperatorMetrics m{
      .reloads_ok = ok,
      .reloads_kept_old = kept,
      .cert_expiry = reg.gauge_set("hikyaku_certificate_expiry_timestamp_seconds",
                                   "When each certificate in service expires (its notAfter), as "
                                   "seconds since the epoch, by certificate folder.",
                                   "name"),
      .start_time = reg.gauge("hikyaku_start_time_seconds",
                              "When the daemon started, as seconds since the epoch."),
      .build_info = reg.gauge("hikyaku_build_info", "Always 1; the version of the daemon.",
                              {{"version", HK_VERSION}}),
      .queue_oldest_age =
          reg.gauge("hikyaku_queue_oldest_message_age_seconds",
                    "Age of the oldest message in the queue (0 when the queue is empty)."),
      .dsn_failure = reg.counter(kDsn, kDsnHelp, {{"kind", "failure"}}),
      .dsn_delay = reg.counter(kDsn, kDsnHelp, {{"kind", "delay"}}),
  };
  m.build_info.set(1);
  return m;
}

}  // namespace hk::server
