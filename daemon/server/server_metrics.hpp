// ServerMetrics: the handles the SMTP side updates — connections, rejections by reason, TLS,
// AUTH, SPF and DKIM results, accepted mail, reload errors and the sampled gauges — registered
// once by the Server and carried by every session in its Deps.
//
// The names and labels are the daemon's interface to its operators' dashboards and alerts:
// change one only with a note in the README.
#pragma once

#include "daemon/queue/delivery_metrics.hpp"
#include "lib/metrics/registry.hpp"

namespace hk::spf {
enum class Result;
}
namespace hk::srs {
enum class Error;
}
namespace hk::dmarc {
enum class Result;
}

namespace hk::server {

enum class Port;

struct ServerMetrics {
  // hikyaku_connections_total{port}: connections accepted per listener kind.
  metrics::Counter& connections_smtp;
  metrics::Counter& connections_submission;
  metrics::Counter& connections_submission_tls;
  // hikyaku_rejected_total{reason}: every refusal of a connection, command or message.
  metrics::Counter& rejected_auth_ban;
  metrics::Counter& rejected_auth_required;
  metrics::Counter& rejected_bare_line_ending;
  metrics::Counter& rejected_connection_rate;
  metrics::Counter& rejected_connections;
  metrics::Counter& rejected_connections_per_ip;
  metrics::Counter& rejected_disk_space;
  metrics::Counter& rejected_dmarc;  // [dmarc] enforce: p=reject, or From: unfit for DMARC
  metrics::Counter& rejected_errors;
  metrics::Counter& rejected_from_header;
  metrics::Counter& rejected_loop;
  metrics::Counter& rejected_message_rate;
  metrics::Counter& rejected_nul_byte;
  metrics::Counter& rejected_pipelining;
  metrics::Counter& rejected_proxy_header;  // missing from proxy_networks, or sent from elsewhere
  metrics::Counter& rejected_recipients;
  metrics::Counter& rejected_relay;
  metrics::Counter& rejected_sender;
  metrics::Counter& rejected_size;
  metrics::Counter& rejected_spf;
  metrics::Counter& rejected_unknown_user;
  metrics::Counter& session_timeouts;
  metrics::Counter& session_errors;
  metrics::Counter& tls_sessions;
  metrics::Counter& tls_handshake_failures;
  metrics::Counter& auth_ok;
  metrics::Counter& auth_failed;
  // hikyaku_auth_cache_hits_total: successful AUTH answered from the cache, without scrypt (a
  // subset of hikyaku_auth_total{result="ok"}).
  metrics::Counter& auth_cache_hits;
  metrics::Counter& spf_none;
  metrics::Counter& spf_neutral;
  metrics::Counter& spf_pass;
  metrics::Counter& spf_fail;
  metrics::Counter& spf_softfail;
  metrics::Counter& spf_temperror;
  metrics::Counter& spf_permerror;
  // hikyaku_dmarc_total{result}: DMARC results of incoming mail (one per author domain), and
  // the messages marked for quarantine.
  metrics::Counter& dmarc_none;
  metrics::Counter& dmarc_pass;
  metrics::Counter& dmarc_fail;
  metrics::Counter& dmarc_temperror;
  metrics::Counter& dmarc_permerror;
  metrics::Counter& dmarc_quarantined;
  metrics::Counter& dkim_signed;
  metrics::Counter& dkim_error;
  // hikyaku_srs_total{result}: forwarded recipients given an SRS sender ("rewritten") or left
  // with theirs ("not-rewritten"), bounces to SRS addresses taken ("bounce-accepted") or refused
  // by reason (docs/srs.md).
  metrics::Counter& srs_rewritten;
  metrics::Counter& srs_not_rewritten;
  metrics::Counter& srs_bounce_accepted;
  metrics::Counter& srs_bounce_bad_hash;
  metrics::Counter& srs_bounce_expired;
  metrics::Counter& srs_bounce_malformed;
  metrics::Counter& accepted;
  metrics::Counter& accepted_bytes;
  metrics::Counter& queue_write_errors;
  // Recipients delivered to their Maildir before the reply (the same series as the maildir
  // courier's: hikyaku_delivered_total{via="maildir"}).
  metrics::Counter& delivered_maildir;
  metrics::Counter& reload_errors_certs;
  metrics::Counter& reload_errors_dkim;
  metrics::Counter& reload_errors_domains;
  metrics::Counter& reload_errors_config;  // hikyaku.toml on SIGHUP
  metrics::Counter& reload_errors_srs;     // DATA_DIR/srs.key
  // Sampled by the Server when the page is scraped.
  metrics::Gauge& connections;
  metrics::Gauge& queue_size;

  metrics::Counter& connections_on(Port port) const;
  metrics::Counter& spf(spf::Result result) const;
  metrics::Counter& srs_refused(srs::Error error) const;
  metrics::Counter& dmarc(dmarc::Result result) const;
};

// Registers every server series (all at zero until used) in `reg`; `delivery` supplies the
// series that sessions share with the couriers.
ServerMetrics register_server_metrics(metrics::Registry& reg,
                                      const queue::DeliveryMetrics& delivery);

}  // namespace hk::server
