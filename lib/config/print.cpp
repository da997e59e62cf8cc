// The effective configuration printed as TOML by the table in keys.hpp (so in the order of the
// example file), for `hikyaku-util print-config`. Passwords are masked; everything else parses back
// unchanged.
#include <cstdio>
#include <map>
#include <sstream>

#include "lib/config/config.hpp"
#include "lib/config/keys.hpp"

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

// The value of each kind as TOML text.
std::string value(const keys::Flag&, bool b) { return b ? "true" : "false"; }
template <class T>
std::string value(const keys::Count&, T n) {
  return std::to_string(n);
}
std::string value(const keys::Size&, uint64_t bytes) { return quote(format_size(bytes)); }
template <class D>
std::string value(const keys::Duration&, D d) {
  return quote(format_duration(d));
}
std::string value(const keys::Durations&, const std::vector<std::chrono::seconds>& ds) {
  return list(ds, [](std::chrono::seconds d) { return format_duration(d); });
}
std::string value(const keys::Text&, const std::string& s) { return quote(s); }
std::string value(const keys::Preset&, const std::string& s) { return quote(s); }
std::string value(const keys::HostName&, const std::string& s) { return quote(s); }
std::string value(const keys::HostOrIp&, const std::string& s) { return quote(s); }
std::string value(const keys::OneDomain&, const std::string& s) { return quote(s); }
std::string value(const keys::HeloName&, const std::string& s) { return quote(s); }
std::string value(const keys::IpLiteral&, const std::string& s) { return quote(s); }
std::string value(const keys::Dir&, const std::filesystem::path& p) { return quote(p.string()); }
std::string value(const keys::File&, const std::filesystem::path& p) { return quote(p.string()); }
std::string value(const keys::Networks&, const std::vector<Cidr>& nets) {
  return list(nets, [](const Cidr& c) { return c.str(); });
}
std::string value(const keys::Domains&, const std::vector<std::string>& names) {
  return strings(names);
}
std::string value(const keys::AddressPatterns&, const std::vector<std::string>& patterns) {
  return strings(patterns);
}
std::string value(const keys::Listeners&, const std::vector<Endpoint>& eps) {
  return endpoints(eps);
}
std::string value(const keys::Servers&, const std::vector<Endpoint>& eps) { return endpoints(eps); }
template <class E>
std::string value(const keys::Choice<E>& c, E v) {
  return quote(keys::name_of(c, v));
}

// The line for one key: `name = value` unless the kind says otherwise below.
template <class K, class T>
std::string line(std::string_view name, const K& kind, const T& v) {
  return std::string(name) + " = " + value(kind, v) + "\n";
}

std::string line(std::string_view name, const keys::HostName& kind, const std::string& host) {
  if (host.find('.') == std::string::npos && host != "localhost") {
    // Only the machine's own name may be a single label (a written one must be fully
    // qualified), so leave it to the default again.
    return "# " + std::string(name) + " = " + value(kind, host) + "  # the system host name\n";
  }
  return std::string(name) + " = " + value(kind, host) + "\n";
}

// An empty string and no key read back the same, so an empty one is left out.
std::string line(std::string_view name, const keys::Text& kind, const std::string& s) {
  return s.empty() ? "" : std::string(name) + " = " + value(kind, s) + "\n";
}
std::string line(std::string_view name, const keys::Preset& kind, const std::string& s) {
  return s.empty() ? "" : std::string(name) + " = " + value(kind, s) + "\n";
}
std::string line(std::string_view name, const keys::Secret&, const std::string& s) {
  return s.empty() ? "" : std::string(name) + " = \"***\"\n";
}

}  // namespace

std::string to_toml(const Config& cfg) {
  std::ostringstream o;
  o << "# Effective configuration read from " << cfg.file.string() << "\n";
  std::string_view open_section;
  keys::for_each_key(cfg, [&](std::string_view section, std::string_view name, const auto& member,
                              const auto& kind) {
    if (section != open_section) {
      open_section = section;
      o << "\n[" << section << "]\n";
    }
    o << line(name, kind, member);
  });
  for (const Relay& relay : cfg.relays) {
    o << "\n[[relay]]\n";
    keys::for_each_relay_key(relay, [&](std::string_view, std::string_view name, const auto& member,
                                        const auto& kind) { o << line(name, kind, member); });
  }
  return o.str();
}

namespace {

// What a running daemon cannot take without a restart: the sockets it has bound, the places it
// has opened, the user it runs as, its name (in the TLS store, the couriers and the bounces) and
// the TLS floor and ticket policy the certificate store was built with, and whether capture mode
// is on (the capture store is opened at start, and the console is built around it).
bool needs_restart(std::string_view section, std::string_view name) {
  return section == "listen" || (section == "capture" && name == "enabled") ||
         (section == "tls" && (name == "min_version" || name == "session_tickets")) ||
         (section.empty() && (name == "hostname" || name == "data_dir" || name == "run_as"));
}

// Each key's value as print-config shows it ("section.name" → line).
std::map<std::string, std::string> shown_values(const Config& cfg) {
  std::map<std::string, std::string> out;
  keys::for_each_key(
      cfg, [&](std::string_view section, std::string_view name, const auto& member,
               const auto& kind) { out[key_path(section, name)] = line(name, kind, member); });
  return out;
}

}  // namespace

std::string key_path(std::string_view section, std::string_view name) {
  return section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
}

Config keep_restart_keys(const Config& running, Config loaded) {
  // The same keys as needs_restart(); the unit test holds the two together.
  loaded.hostname = running.hostname;
  loaded.data_dir = running.data_dir;
  loaded.run_as = running.run_as;
  loaded.listen = running.listen;
  loaded.tls.min_version = running.tls.min_version;
  loaded.tls.session_tickets = running.tls.session_tickets;
  loaded.capture.enabled = running.capture.enabled;
  return loaded;
}

std::vector<KeyChange> diff_config(const Config& running, const Config& loaded) {
  std::vector<KeyChange> out;
  std::map<std::string, std::string> before = shown_values(running);
  std::map<std::string, std::string> after = shown_values(loaded);
  keys::for_each_key(
      running, [&](std::string_view section, std::string_view name, const auto&, const auto&) {
        std::string key = key_path(section, name);
        if (before[key] != after[key]) {
          out.push_back({key, needs_restart(section, name)});
        }
      });
  // Compared whole, passwords included (print-config hides those).
  if (running.relays != loaded.relays) {
    out.push_back({"relay", false});
  }
  return out;
}

}  // namespace hk::config
