// The effective configuration printed as TOML in the order of the example file, for
// `hikyaku-util print-config`. Passwords are masked; everything else parses back unchanged.
#include <cstdio>
#include <sstream>

#include "lib/config/config.hpp"

namespace hk::config {
namespace {

// A TOML basic string. '$' is doubled because parse_config expands ${ENV} in every string.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '$':
        out += "$$";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

template <class T, class F>
std::string list(const std::vector<T>& items, F&& text) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : ", ") + quote(text(items[i]));
  }
  return out + "]";
}

std::string strings(const std::vector<std::string>& items) {
  return list(items, [](const std::string& s) { return s; });
}

std::string endpoints(const std::vector<Endpoint>& items) {
  return list(items, [](const Endpoint& e) { return e.str(); });
}

std::string boolean(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string to_toml(const Config& cfg) {
  std::ostringstream o;
  o << "# Effective configuration read from " << cfg.file.string() << "\n";
  if (cfg.hostname.find('.') == std::string::npos && cfg.hostname != "localhost") {
    // Only the machine's own name may be a single label (a written one must be fully
    // qualified), so leave it to the default again.
    o << "# hostname = " << quote(cfg.hostname) << "  # the system host name\n";
  } else {
    o << "hostname = " << quote(cfg.hostname) << "\n";
  }
  o << "data_dir = " << quote(cfg.data_dir.string()) << "\n";
  o << "trusted_networks = " << list(cfg.trusted_networks, [](const Cidr& c) { return c.str(); })
    << "\n";
  o << "trusted_sender_domains = " << strings(cfg.trusted_sender_domains) << "\n";
  o << "allow_plain_auth_from_trusted = " << boolean(cfg.allow_plain_auth_from_trusted) << "\n";
  o << "log_level = " << quote(cfg.log_level) << "\n";

  o << "\n[listen]\n";
  o << "smtp = " << endpoints(cfg.listen.smtp) << "\n";
  o << "submission = " << endpoints(cfg.listen.submission) << "\n";
  o << "submission_tls = " << endpoints(cfg.listen.submission_tls) << "\n";
  o << "metrics = " << endpoints(cfg.listen.metrics) << "\n";

  const Config::Limits& l = cfg.limits;
  o << "\n[limits]\n";
  o << "max_message_size = " << quote(format_size(l.max_message_size)) << "\n";
  o << "max_recipients = " << l.max_recipients << "\n";
  o << "max_connections = " << l.max_connections << "\n";
  o << "max_connections_per_ip = " << l.max_connections_per_ip << "\n";
  o << "max_auth_failures = " << l.max_auth_failures << "\n";
  o << "max_received_headers = " << l.max_received_headers << "\n";
  o << "command_timeout = " << quote(format_duration(l.command_timeout)) << "\n";
  o << "data_timeout = " << quote(format_duration(l.data_timeout)) << "\n";
  o << "connection_timeout = " << quote(format_duration(l.connection_timeout)) << "\n";

  o << "\n[tls]\n";
  o << "min_version = " << quote(cfg.tls.min_version) << "\n";

  const Config::Queue& q = cfg.queue;
  o << "\n[queue]\n";
  o << "lifetime = " << quote(format_duration(q.lifetime)) << "\n";
  o << "retry = " << list(q.retry, [](std::chrono::seconds d) { return format_duration(d); })
    << "\n";
  o << "delay_warning = " << quote(format_duration(q.delay_warning)) << "\n";
  o << "max_concurrent_deliveries = " << q.max_concurrent_deliveries << "\n";

  o << "\n[dns]\n";
  o << "servers = " << endpoints(cfg.dns.servers) << "\n";
  o << "timeout = " << quote(format_duration(cfg.dns.timeout)) << "\n";
  o << "attempts = " << cfg.dns.attempts << "\n";

  o << "\n[spf]\n";
  o << "reject_fail = " << boolean(cfg.spf.reject_fail) << "\n";

  o << "\n[delivery]\n";
  o << "mta_sts = " << boolean(cfg.delivery.mta_sts) << "\n";

  for (const Relay& relay : cfg.relays) {
    o << "\n[[relay]]\n";
    o << "host = " << quote(relay.host) << "\n";
    o << "port = " << relay.port << "\n";
    o << "tls = " << quote(to_string(relay.tls)) << "\n";
    if (!relay.username.empty()) {
      o << "username = " << quote(relay.username) << "\n";
      o << "password = " << quote(relay.password.empty() ? "" : "***") << "\n";
    }
    o << "domains = " << strings(relay.domains) << "\n";
  }
  return o.str();
}

}  // namespace hk::config
