// OperatorMetrics: the series an operator watches besides mail flow — reload results, certificate
// expiry, the process's start time and version, the queue's oldest message and the DSNs sent —
// registered once by the Server (docs/metrics.md lists every series).
#pragma once

#include <array>
#include <cstddef>

#include "lib/metrics/registry.hpp"

namespace hk::server {

// What a reload re-reads: the `what=` of the reload log lines.
enum class ReloadWhat { Certs, Dkim, Domains, Config, Srs };
inline constexpr size_t kReloadWhats = 5;
const char* to_string(ReloadWhat what);

struct OperatorMetrics {
  // hikyaku_reloads_total{what,result="ok"|"kept-old"}
  std::array<metrics::Counter*, kReloadWhats> reloads_ok;
  std::array<metrics::Counter*, kReloadWhats> reloads_kept_old;
  // hikyaku_certificate_expiry_timestamp_seconds{name}: one per certificate folder in service.
  metrics::GaugeSet& cert_expiry;
  metrics::Gauge& start_time;        // hikyaku_start_time_seconds
  metrics::Gauge& build_info;        // hikyaku_build_info{version}, always 1
  metrics::Gauge& queue_oldest_age;  // hikyaku_queue_oldest_message_age_seconds, sampled
  metrics::Counter& dsn_failure;     // hikyaku_dsn_sent_total{kind="failure"}
  metrics::Counter& dsn_delay;       // hikyaku_dsn_sent_total{kind="delay"}

  void reload(ReloadWhat what, bool ok) const;
};

OperatorMetrics register_operator_metrics(metrics::Registry& reg);

}  // namespace hk::server
