// Reads hikyaku.toml into Config: types, ranges, unknown keys and ${ENV} expansion, each error
// naming file:line:key. SECURITY: the file may hold relay passwords; they are only read here.
#include <unistd.h>

#include <map>

#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "lib/config/toml_reader.hpp"

namespace hk::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kKiB = 1024;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return "";
  }
  return ascii_lower(buf);
}

// Normal form without a trailing separator, so "/var/lib/hikyaku/" and "/var/lib/hikyaku" compare
// equal.
fs::path clean_path(const fs::path& p) {
  fs::path out = p.lexically_normal();
  if (!out.empty() && !out.has_filename() && out != out.root_path()) {
    out = out.parent_path();
  }
  return out;
}

bool is_fqdn_or_localhost(const std::string& name) {
  return is_domain_name(name) && (name.find('.') != std::string::npos || name == "localhost");
}

void read_listen(const TomlReader& r, const toml::node& node, Config::Listen& listen) {
  const TomlSection s(r, r.table(node, "listen", "[listen]"), "listen",
                      {"smtp", "submission", "submission_tls", "metrics"});
  // Two listeners on one address and port cannot both bind; port 0 picks a fresh port each time.
  std::map<std::string, std::string> seen;
  const auto endpoints = [&](std::string_view name, std::vector<Endpoint>& out) {
    s.with(name, [&](const toml::node& n, const std::string& key) {
      out.clear();
      r.each(n, key, [&](const toml::node& e, const std::string& k) {
        Endpoint ep;
        try {
          ep = parse_endpoint(r.string(e, k));
        } catch (const std::invalid_argument& err) {
          r.fail(e, k, err.what());
        }
        if (ep.port != 0) {
          const auto [it, fresh] = seen.emplace(ep.str(), k);
          if (!fresh) {
            r.fail(e, k, "duplicate endpoint " + ep.str() + ", also in " + it->second);
          }
        }
        out.push_back(ep);
      });
    });
  };
  endpoints("smtp", listen.smtp);
  endpoints("submission", listen.submission);
  endpoints("submission_tls", listen.submission_tls);
  endpoints("metrics", listen.metrics);
}

void read_limits(const TomlReader& r, const toml::node& node, Config::Limits& l) {
  const TomlSection s(r, r.table(node, "limits", "[limits]"), "limits",
                      {"max_message_size", "max_recipients", "max_connections",
                       "max_connections_per_ip", "max_auth_failures", "max_received_headers",
                       "command_timeout", "data_timeout", "connection_timeout"});
  // RFC 5321 §4.5.3.1.7: a server must accept messages of at least 64K octets.
  s.with("max_message_size", [&](const toml::node& n, const std::string& k) {
    l.max_message_size = r.size(n, k, 64 * kKiB, 2 * kKiB * kKiB * kKiB);
  });
  // RFC 5321 §4.5.3.1.8 asks for at least 100 recipients; a smaller limit is the admin's choice.
  s.with("max_recipients", [&](const toml::node& n, const std::string& k) {
    l.max_recipients = static_cast<size_t>(r.integer(n, k, 1, 10000));
  });
  s.with("max_connections", [&](const toml::node& n, const std::string& k) {
    l.max_connections = static_cast<size_t>(r.integer(n, k, 1, 1'000'000));
  });
  s.with("max_connections_per_ip", [&](const toml::node& n, const std::string& k) {
    l.max_connections_per_ip = static_cast<size_t>(r.integer(n, k, 1, 1'000'000));
  });
  s.with("max_auth_failures", [&](const toml::node& n, const std::string& k) {
    l.max_auth_failures = static_cast<size_t>(r.integer(n, k, 1, 100));
  });
  // RFC 5321 §6.3: loops are detected by counting Received fields against a large threshold.
  s.with("max_received_headers", [&](const toml::node& n, const std::string& k) {
    l.max_received_headers = static_cast<int>(r.integer(n, k, 1, 1000));
  });
  // RFC 5321 §4.5.3.2: the server's command timeout SHOULD be at least 5 minutes, but tests and
  // hostile networks want shorter ones, so only sanity bounds are enforced.
  s.with("command_timeout", [&](const toml::node& n, const std::string& k) {
    l.command_timeout = r.duration_s(n, k, seconds(1), std::chrono::hours(24));
  });
  s.with("data_timeout", [&](const toml::node& n, const std::string& k) {
    l.data_timeout = r.duration_s(n, k, seconds(1), std::chrono::hours(24));
  });
  s.with("connection_timeout", [&](const toml::node& n, const std::string& k) {
    l.connection_timeout = r.duration_s(n, k, seconds(1), std::chrono::hours(7 * 24));
  });
}

void read_queue(const TomlReader& r, const toml::node& node, Config::Queue& q) {
  const TomlSection s(r, r.table(node, "queue", "[queue]"), "queue",
                      {"lifetime", "retry", "delay_warning", "max_concurrent_deliveries"});
  s.with("lifetime", [&](const toml::node& n, const std::string& k) {
    q.lifetime = r.duration_s(n, k, seconds(1), std::chrono::hours(30 * 24));
  });
  s.with("retry", [&](const toml::node& n, const std::string& k) {
    q.retry.clear();
    r.each(n, k, [&](const toml::node& e, const std::string& ek) {
      q.retry.push_back(r.duration_s(e, ek, seconds(1), std::chrono::hours(24)));
    });
    if (q.retry.empty()) {
      r.fail(n, k, "must list at least one interval");
    }
  });
  s.with("delay_warning", [&](const toml::node& n, const std::string& k) {
    q.delay_warning = r.duration_s(n, k, seconds(0), std::chrono::hours(30 * 24));
  });
  s.with("max_concurrent_deliveries", [&](const toml::node& n, const std::string& k) {
    q.max_concurrent_deliveries = static_cast<size_t>(r.integer(n, k, 1, 10000));
  });
}

void read_dns(const TomlReader& r, const toml::node& node, Config::Dns& d) {
  const TomlSection s(r, r.table(node, "dns", "[dns]"), "dns", {"servers", "timeout", "attempts"});
  s.with("servers", [&](const toml::node& n, const std::string& k) {
    d.servers.clear();
    r.each(n, k, [&](const toml::node& e, const std::string& ek) {
      try {
        d.servers.push_back(parse_endpoint(r.string(e, ek), 53));
      } catch (const std::invalid_argument& err) {
        r.fail(e, ek, err.what());
      }
      if (d.servers.back().port == 0) {
        r.fail(e, ek, "port must be between 1 and 65535");
      }
    });
  });
  s.with("timeout", [&](const toml::node& n, const std::string& k) {
    d.timeout = r.duration(n, k, milliseconds(1), milliseconds(60'000), true);
  });
  s.with("attempts", [&](const toml::node& n, const std::string& k) {
    d.attempts = static_cast<int>(r.integer(n, k, 1, 10));
  });
}

Relay read_relay(const TomlReader& r, const toml::node& node, const std::string& prefix) {
  const toml::table& t = r.table(node, prefix, "[[relay]]");
  const TomlSection s(r, t, prefix, {"host", "port", "tls", "username", "password", "domains"});
  Relay relay;
  bool port_written = false;
  s.with("host", [&](const toml::node& n, const std::string& k) {
    relay.host = ascii_lower(r.string(n, k));
    boost::system::error_code ec;
    boost::asio::ip::make_address(relay.host, ec);
    if (ec && !is_domain_name(relay.host)) {
      r.fail(n, k, "not a valid host name or IP address: " + in_quotes(relay.host));
    }
  });
  if (relay.host.empty()) {
    r.fail(t.source(), s.key("host"), "required");
  }
  s.with("tls", [&](const toml::node& n, const std::string& k) {
    const std::string v = r.string(n, k);
    if (v == "starttls") {
      relay.tls = RelayTls::StartTls;
    } else if (v == "implicit") {
      relay.tls = RelayTls::Implicit;
    } else if (v == "none") {
      relay.tls = RelayTls::None;
    } else {
      r.fail(n, k, "must be \"starttls\", \"implicit\" or \"none\", got " + in_quotes(v));
    }
  });
  s.with("port", [&](const toml::node& n, const std::string& k) {
    relay.port = static_cast<uint16_t>(r.integer(n, k, 1, 65535));
    port_written = true;
  });
  if (!port_written) {
    // The registered ports: submission (RFC 6409), submissions (RFC 8314 §7.3), smtp.
    relay.port = relay.tls == RelayTls::StartTls ? 587 : relay.tls == RelayTls::Implicit ? 465 : 25;
  }
  s.with("username",
         [&](const toml::node& n, const std::string& k) { relay.username = r.string(n, k); });
  s.with("password", [&](const toml::node& n, const std::string& k) {
    relay.password = r.string(n, k);
    if (!relay.password.empty() && relay.username.empty()) {
      r.fail(n, k, "set without a username");
    }
  });
  if (!relay.username.empty() && relay.password.empty()) {
    r.fail(t.get("username")->source(), s.key("password"), "required when username is set");
  }
  s.with("domains",
         [&](const toml::node& n, const std::string& k) { relay.domains = r.domains(n, k); });
  return relay;
}

}  // namespace

std::string_view to_string(RelayTls tls) {
  switch (tls) {
    case RelayTls::StartTls:
      return "starttls";
    case RelayTls::Implicit:
      return "implicit";
    case RelayTls::None:
      return "none";
  }
  return "starttls";
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& file_for_errors,
                    const std::filesystem::path& config_dir) {
  const TomlReader r(file_for_errors.string());
  toml::table root;
  try {
    root = toml::parse(toml_text, file_for_errors.string());
  } catch (const toml::parse_error& e) {
    r.fail(e.source(), "", e.description());
  }

  Config cfg;
  cfg.config_dir = config_dir;
  cfg.file = file_for_errors;
  const TomlSection s(r, root, "",
                      {"hostname", "data_dir", "trusted_networks", "trusted_sender_domains",
                       "allow_plain_auth_from_trusted", "log_level", "listen", "limits", "tls",
                       "queue", "dns", "spf", "delivery", "relay"});

  s.with("hostname", [&](const toml::node& n, const std::string& k) {
    cfg.hostname = ascii_lower(r.string(n, k));
    if (!is_fqdn_or_localhost(cfg.hostname)) {
      r.fail(n, k,
             "must be a fully qualified domain name such as mx.example.com, got " +
                 in_quotes(cfg.hostname));
    }
  });
  if (cfg.hostname.empty()) {
    // The machine's own name may be a single label ("vm"); that is its business, so only the
    // syntax is checked.
    cfg.hostname = system_hostname();
    if (!is_domain_name(cfg.hostname)) {
      r.fail(toml::source_region{}, "hostname",
             "not set, and the system host name " + in_quotes(cfg.hostname) +
                 " is not a valid domain name; set hostname");
    }
  }
  s.with("data_dir", [&](const toml::node& n, const std::string& k) {
    fs::path p = r.string(n, k);
    if (p.empty()) {
      r.fail(n, k, "must not be empty");
    }
    cfg.data_dir = clean_path(p.is_relative() ? config_dir / p : p);
  });
  s.with("trusted_networks", [&](const toml::node& n, const std::string& k) {
    cfg.trusted_networks.clear();
    r.each(n, k, [&](const toml::node& e, const std::string& ek) {
      try {
        cfg.trusted_networks.push_back(parse_cidr(r.string(e, ek)));
      } catch (const std::invalid_argument& err) {
        r.fail(e, ek, err.what());
      }
    });
  });
  s.with("trusted_sender_domains", [&](const toml::node& n, const std::string& k) {
    cfg.trusted_sender_domains = r.domains(n, k);
  });
  s.with("allow_plain_auth_from_trusted", [&](const toml::node& n, const std::string& k) {
    cfg.allow_plain_auth_from_trusted = r.boolean(n, k);
  });
  s.with("log_level", [&](const toml::node& n, const std::string& k) {
    cfg.log_level = r.string(n, k);
    if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warn" &&
        cfg.log_level != "error") {
      r.fail(n, k,
             "must be \"debug\", \"info\", \"warn\" or \"error\", got " + in_quotes(cfg.log_level));
    }
  });
  s.with("listen", [&](const toml::node& n, const std::string&) { read_listen(r, n, cfg.listen); });
  s.with("limits", [&](const toml::node& n, const std::string&) { read_limits(r, n, cfg.limits); });
  s.with("tls", [&](const toml::node& n, const std::string&) {
    const TomlSection t(r, r.table(n, "tls", "[tls]"), "tls", {"min_version"});
    t.with("min_version", [&](const toml::node& v, const std::string& k) {
      cfg.tls.min_version = r.string(v, k);
      if (cfg.tls.min_version != "1.2" && cfg.tls.min_version != "1.3") {
        r.fail(v, k, "must be \"1.2\" or \"1.3\", got " + in_quotes(cfg.tls.min_version));
      }
    });
  });
  s.with("queue", [&](const toml::node& n, const std::string&) { read_queue(r, n, cfg.queue); });
  s.with("dns", [&](const toml::node& n, const std::string&) { read_dns(r, n, cfg.dns); });
  s.with("spf", [&](const toml::node& n, const std::string&) {
    const TomlSection t(r, r.table(n, "spf", "[spf]"), "spf", {"reject_fail"});
    t.with("reject_fail", [&](const toml::node& v, const std::string& k) {
      cfg.spf.reject_fail = r.boolean(v, k);
    });
  });
  s.with("delivery", [&](const toml::node& n, const std::string&) {
    const TomlSection t(r, r.table(n, "delivery", "[delivery]"), "delivery", {"mta_sts"});
    t.with("mta_sts", [&](const toml::node& v, const std::string& k) {
      cfg.delivery.mta_sts = r.boolean(v, k);
    });
  });
  s.with("relay", [&](const toml::node& n, const std::string& k) {
    if (n.is_table()) {
      r.fail(n, k, "must be an array of tables: write [[relay]], not [relay]");
    }
    r.each(n, k, [&](const toml::node& e, const std::string& ek) {
      cfg.relays.push_back(read_relay(r, e, ek));
    });
  });
  return cfg;
}

Config load_config(const std::filesystem::path& config_dir) {
  const fs::path dir = clean_path(fs::absolute(config_dir));
  const fs::path file = dir / "hikyaku.toml";
  std::string text;
  if (const std::error_code ec = base::read_file(file, text)) {
    throw ConfigError(file.string() + ": cannot read: " + ec.message());
  }
  return parse_config(text, file, dir);
}

}  // namespace hk::config
