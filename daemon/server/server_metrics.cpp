// ServerMetrics: names, help texts and labels of the SMTP side's metrics.
#include "daemon/server/server_metrics.hpp"

#include <string>

#include "daemon/server/session.hpp"
#include "lib/dmarc/check.hpp"
#include "lib/spf/check_host.hpp"
#include "lib/srs/srs.hpp"

namespace hk::server {

namespace {

constexpr const char* kConnections = "hikyaku_connections_total";
constexpr const char* kConnectionsHelp = "Connections accepted, by listener (port).";
constexpr const char* kRejected = "hikyaku_rejected_total";
constexpr const char* kRejectedHelp =
    "Connections, commands and messages refused, by reason (every refusal counts once).";
constexpr const char* kSpf = "hikyaku_spf_total";
constexpr const char* kSpfHelp = "SPF checks of incoming mail (RFC 7208), by result.";
constexpr const char* kDmarc = "hikyaku_dmarc_total";
constexpr const char* kDmarcHelp =
    "DMARC checks of incoming mail (RFC 7489), by result; \"quarantined\" counts the messages "
    "marked for quarantine under [dmarc] enforce.";
constexpr const char* kAuth = "hikyaku_auth_total";
constexpr const char* kAuthHelp = "AUTH attempts (RFC 4954), by result.";
constexpr const char* kDkim = "hikyaku_dkim_total";
constexpr const char* kDkimHelp = "DKIM signing of outgoing mail (RFC 6376), by result.";
constexpr const char* kSrs = "hikyaku_srs_total";
constexpr const char* kSrsHelp =
    "SRS: forwarded recipients rewritten or not, bounces to SRS addresses accepted or refused.";
constexpr const char* kReload = "hikyaku_reload_errors_total";
constexpr const char* kReloadHelp =
    "Reloads that failed and kept the previous state, by what was reloaded.";

metrics::Counter& labelled(metrics::Registry& reg, const char* name, const char* help,
                           const char* label, std::string value) {
  return reg.counter(name, help, {{label, std::move(value)}});
}

}  // namespace

metrics::Counter& ServerMetrics::connections_on(Port port) const {
  switch (port) {
    case Port::Smtp:
      return connections_smtp;
    case Port::Submission:
      return connections_submission;
    case Port::SubmissionTls:
      return connections_submission_tls;
  }
  return connections_smtp;
}

metrics::Counter& ServerMetrics::spf(spf::Result result) const {
  switch (result) {
    case spf::Result::None:
      return spf_none;
    case spf::Result::Neutral:
      return spf_neutral;
    case spf::Result::Pass:
      return spf_pass;
    case spf::Result::Fail:
      return spf_fail;
    case spf::Result::SoftFail:
      return spf_softfail;
    case spf::Result::TempError:
      return spf_temperror;
    case spf::Result::PermError:
      return spf_permerror;
  }
  return spf_none;
}

metrics::Counter& ServerMetrics::srs_refused(srs::Error error) const {
  switch (error) {
    case srs::Error::BadHash:
      return srs_bounce_bad_hash;
    case srs::Error::Expired:
      return srs_bounce_expired;
    default:
      return srs_bounce_malformed;
  }
}

metrics::Counter& ServerMetrics::dmarc(dmarc::Result result) const {
  switch (result) {
    case dmarc::Result::None:
      return dmarc_none;
    case dmarc::Result::Pass:
      return dmarc_pass;
    case dmarc::Result::Fail:
      return dmarc_fail;
    case dmarc::Result::TempError:
      return dmarc_temperror;
    case dmarc::Result::PermError:
      return dmarc_permerror;
  }
  return dmarc_none;
}

ServerMetrics register_server_metrics(metrics::Registry& reg,
                                      const queue::DeliveryMetrics& delivery) {
  auto port = [&](Port p) -> metrics::Counter& {
    return labelled(reg, kConnections, kConnectionsHelp, "port", port_name(p));
  };
  auto rejected = [&](const char* reason) -> metrics::Counter& {
    return labelled(reg, kRejected, kRejectedHelp, "reason", reason);
  };
  auto spf_result = [&](spf::Result r) -> metrics::Counter& {
    return labelled(reg, kSpf, kSpfHelp, "result", std::string(spf::to_string(r)));
  };
  auto dmarc_result = [&](dmarc::Result r) -> metrics::Counter& {
    return labelled(reg, kDmarc, kDmarcHelp, "result", std::string(dmarc::to_string(r)));
  };
  // Designated initializers run in declaration order, so the page lists the families in the
  // order of the struct.
  return ServerMetrics{
      .connections_smtp = port(Port::Smtp),
      .connections_submission = port(Port::Submission),
      .connections_submission_tls = port(Port::SubmissionTls),
      .rejected_auth_ban = rejected("auth-ban"),
      .rejected_auth_required = rejected("auth-required"),
      .rejected_bare_line_ending = rejected("bare-line-ending"),
      .rejected_connection_rate = rejected("connection-rate"),
      .rejected_connections = rejected("connections"),
      .rejected_connections_per_ip = rejected("connections-per-ip"),
      .rejected_disk_space = rejected("disk-space"),
      .rejected_dmarc = rejected("dmarc"),
      .rejected_errors = rejected("errors"),
      .rejected_from_header = rejected("from-header"),
      .rejected_loop = rejected("loop"),
      .rejected_message_rate = rejected("message-rate"),
      .rejected_nul_byte = rejected("nul-byte"),
      .rejected_pipelining = rejected("pipelining"),
      .rejected_proxy_header = rejected("proxy-header"),
      .rejected_recipients = rejected("recipients"),
      .rejected_relay = rejected("relay"),
      .rejected_sender = rejected("sender"),
      .rejected_size = rejected("size"),
      .rejected_spf = rejected("spf"),
      .rejected_unknown_user = rejected("unknown-user"),
      .session_timeouts = reg.counter("hikyaku_session_timeouts_total",
                                      "Sessions closed with 421 at a timeout (RFC 5321 §4.5.3.2)."),
      .session_errors = reg.counter("hikyaku_session_errors_total",
                                    "Sessions ended by an internal error (a bug; see the log)."),
      .tls_sessions = reg.counter("hikyaku_tls_sessions_total", "STARTTLS handshakes completed."),
      .tls_handshake_failures =
          reg.counter("hikyaku_tls_handshake_failures_total", "TLS handshakes that failed."),
      .auth_ok = labelled(reg, kAuth, kAuthHelp, "result", "ok"),
      .auth_failed = labelled(reg, kAuth, kAuthHelp, "result", "failed"),
      .auth_cache_hits = reg.counter("hikyaku_auth_cache_hits_total",
                                     "Successful AUTH answered from the cache of recent checks."),
      .spf_none = spf_result(spf::Result::None),
      .spf_neutral = spf_result(spf::Result::Neutral),
      .spf_pass = spf_result(spf::Result::Pass),
      .spf_fail = spf_result(spf::Result::Fail),
      .spf_softfail = spf_result(spf::Result::SoftFail),
      .spf_temperror = spf_result(spf::Result::TempError),
      .spf_permerror = spf_result(spf::Result::PermError),
      .dmarc_none = dmarc_result(dmarc::Result::None),
      .dmarc_pass = dmarc_result(dmarc::Result::Pass),
      .dmarc_fail = dmarc_result(dmarc::Result::Fail),
      .dmarc_temperror = dmarc_result(dmarc::Result::TempError),
      .dmarc_permerror = dmarc_result(dmarc::Result::PermError),
      .dmarc_quarantined = labelled(reg, kDmarc, kDmarcHelp, "result", "quarantined"),
      .dkim_signed = labelled(reg, kDkim, kDkimHelp, "result", "signed"),
      .dkim_error = labelled(reg, kDkim, kDkimHelp, "result", "error"),
      .srs_rewritten = labelled(reg, kSrs, kSrsHelp, "result", "rewritten"),
      .srs_not_rewritten = labelled(reg, kSrs, kSrsHelp, "result", "not-rewritten"),
      .srs_bounce_accepted = labelled(reg, kSrs, kSrsHelp, "result", "bounce-accepted"),
      .srs_bounce_bad_hash = labelled(reg, kSrs, kSrsHelp, "result", "bounce-bad-hash"),
      .srs_bounce_expired = labelled(reg, kSrs, kSrsHelp, "result", "bounce-expired"),
      .srs_bounce_malformed = labelled(reg, kSrs, kSrsHelp, "result", "bounce-malformed"),
      .accepted = reg.counter("hikyaku_accepted_total", "Messages accepted (250 after DATA)."),
      .accepted_bytes =
          reg.counter("hikyaku_accepted_bytes_total", "Bytes of the messages accepted."),
      .queue_write_errors = reg.counter("hikyaku_queue_write_errors_total",
                                        "Messages refused with 451 because the queue could not "
                                        "store them."),
      .delivered_maildir = delivery.maildir.delivered,
      .reload_errors_certs = labelled(reg, kReload, kReloadHelp, "what", "certs"),
      .reload_errors_dkim = labelled(reg, kReload, kReloadHelp, "what", "dkim"),
      .reload_errors_domains = labelled(reg, kReload, kReloadHelp, "what", "domains"),
      .reload_errors_config = labelled(reg, kReload, kReloadHelp, "what", "config"),
      .reload_errors_srs = labelled(reg, kReload, kReloadHelp, "what", "srs"),
      .connections = reg.gauge("hikyaku_connections", "SMTP connections open."),
      .queue_size =
          reg.gauge("hikyaku_queue_size", "Messages in the queue (waiting or being delivered)."),
  };
}

}  // namespace hk::server
