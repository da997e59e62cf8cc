// Reads hikyaku.toml into Config by the table in keys.hpp: types, ranges, unknown keys and ${ENV}
// expansion, each error naming file:line:key. SECURITY: the file may hold relay passwords; they are
// only read here.
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "lib/base/ascii.hpp"
#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "lib/config/keys.hpp"
#include "lib/config/relay_presets.hpp"
#include "lib/config/toml_reader.hpp"

namespace hk::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return "";
  }
  return base::to_lower(buf);
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

// The names in `section` of the table ("" = the top level). The top level also allows the names of
// the sections themselves.
std::vector<std::string_view> names_in(std::string_view section) {
  std::vector<std::string_view> out;
  for (const KeyName& k : known_keys()) {
    if (k.section == section) {
      out.push_back(k.name);
    } else if (section.empty() &&
               std::find(out.begin(), out.end(), std::string_view(k.section)) == out.end()) {
      out.push_back(k.section);
    }
  }
  return out;
}

// "\"a\", \"b\" or \"c\"".
template <class E>
std::string one_of(const keys::Choice<E>& choice) {
  std::string out;
  for (size_t i = 0; i < choice.names.size(); ++i) {
    out += i == 0 ? "" : i + 1 == choice.names.size() ? " or " : ", ";
    out += in_quotes(choice.names[i].text);
  }
  return out;
}

// Reads one value of each kind of the table into its member. One per parse: the listeners are
// checked against each other.
class ValueReader {
 public:
  ValueReader(const TomlReader& r, fs::path config_dir)
      : r_(r), config_dir_(std::move(config_dir)) {}

  void read(const keys::Flag&, const toml::node& n, const std::string& k, bool& out) const {
    out = r_.boolean(n, k);
  }

  template <class T>
  void read(const keys::Count& c, const toml::node& n, const std::string& k, T& out) const {
    out = static_cast<T>(r_.integer(n, k, c.min, c.max));
  }

  void read(const keys::Size& s, const toml::node& n, const std::string& k, uint64_t& out) const {
    out = r_.size(n, k, s.min, s.max);
  }

  // Without the unit "ms" every duration is a whole number of seconds, so the cast is exact.
  void read(const keys::Duration& d, const toml::node& n, const std::string& k,
            seconds& out) const {
    out = std::chrono::duration_cast<seconds>(r_.duration(n, k, d.min, d.max));
  }
  void read(const keys::Duration& d, const toml::node& n, const std::string& k,
            milliseconds& out) const {
    out = r_.duration(n, k, d.min, d.max, true);
  }

  void read(const keys::Durations& d, const toml::node& n, const std::string& k,
            std::vector<seconds>& out) const {
    out.clear();
    r_.each(n, k, [&](const toml::node& e, const std::string& ek) {
      read(keys::Duration{d.min, d.max}, e, ek, out.emplace_back());
    });
    if (out.empty()) {
      r_.fail(n, k, "must list at least one interval");
    }
  }

  void read(const keys::Text&, const toml::node& n, const std::string& k, std::string& out) const {
    out = r_.string(n, k);
  }
  void read(const keys::Secret&, const toml::node& n, const std::string& k,
            std::string& out) const {
    out = r_.string(n, k);
  }

  void read(const keys::Preset&, const toml::node& n, const std::string& k,
            std::string& out) const {
    out = base::to_lower(r_.string(n, k));
    std::string why;
    if (!out.empty() && !relay_preset(out, why)) {
      r_.fail(n, k, why);
    }
  }

  void read(const keys::HostName&, const toml::node& n, const std::string& k,
            std::string& out) const {
    out = base::to_lower(r_.string(n, k));
    if (!is_fqdn_or_localhost(out)) {
      r_.fail(
          n, k,
          "must be a fully qualified domain name such as mx.example.com, got " + in_quotes(out));
    }
  }

  void read(const keys::HeloName&, const toml::node& n, const std::string& k,
            std::string& out) const {
    out = base::to_lower(r_.string(n, k));
    if (!out.empty() && !is_fqdn_or_localhost(out)) {
      r_.fail(
          n, k,
          "must be a fully qualified domain name such as mail.example.com, got " + in_quotes(out));
    }
  }

  void read(const keys::IpLiteral& kind, const toml::node& n, const std::string& k,
            std::string& out) const {
    const std::string text = r_.string(n, k);
    out.clear();
    if (text.empty()) {
      return;
    }
    boost::system::error_code ec;
    const boost::asio::ip::address a = boost::asio::ip::make_address(text, ec);
    if (ec || a.is_v6() != kind.v6) {
      r_.fail(n, k,
              std::string("must be an ") + (kind.v6 ? "IPv6" : "IPv4") + " address, got " +
                  in_quotes(text));
    }
    out = a.to_string();
  }

  void read(const keys::HostOrIp&, const toml::node& n, const std::string& k,
            std::string& out) const {
    out = base::to_lower(r_.string(n, k));
    boost::system::error_code ec;
    boost::asio::ip::make_address(out, ec);
    if (ec && !is_domain_name(out)) {
      r_.fail(n, k, "not a valid host name or IP address: " + in_quotes(out));
    }
  }

  void read(const keys::Dir&, const toml::node& n, const std::string& k, fs::path& out) const {
    const fs::path p = r_.string(n, k);
    if (p.empty()) {
      r_.fail(n, k, "must not be empty");
    }
    out = clean_path(p.is_relative() ? config_dir_ / p : p);
  }

  void read(const keys::File&, const toml::node& n, const std::string& k, fs::path& out) const {
    const fs::path p = r_.string(n, k);
    out = p.empty() ? p : clean_path(p.is_relative() ? config_dir_ / p : p);
  }

  void read(const keys::Networks&, const toml::node& n, const std::string& k,
            std::vector<Cidr>& out) const {
    out.clear();
    r_.each(n, k, [&](const toml::node& e, const std::string& ek) {
      try {
        out.push_back(parse_cidr(r_.string(e, ek)));
      } catch (const std::invalid_argument& err) {
        r_.fail(e, ek, err.what());
      }
    });
  }

  void read(const keys::Domains&, const toml::node& n, const std::string& k,
            std::vector<std::string>& out) const {
    out = r_.domains(n, k);
  }

  void read(const keys::AddressPatterns&, const toml::node& n, const std::string& k,
            std::vector<std::string>& out) const {
    out.clear();
    r_.each(n, k, [&](const toml::node& e, const std::string& ek) {
      std::string pattern = base::to_lower(r_.string(e, ek));
      if (!is_address_pattern(pattern)) {
        r_.fail(
            e, ek,
            "must be \"*@domain\", \"*@*.domain\" or \"user@domain\", got " + in_quotes(pattern));
      }
      out.push_back(std::move(pattern));
    });
  }

  void read(const keys::Listeners&, const toml::node& n, const std::string& k,
            std::vector<Endpoint>& out) {
    out.clear();
    r_.each(n, k, [&](const toml::node& e, const std::string& ek) {
      const Endpoint ep = endpoint(e, ek, std::nullopt);
      // Two listeners on one address and port cannot both bind; port 0 picks a fresh port each
      // time.
      if (ep.port != 0) {
        const auto [it, fresh] = listening_.emplace(ep.str(), ek);
        if (!fresh) {
          r_.fail(e, ek, "duplicate endpoint " + ep.str() + ", also in " + it->second);
        }
      }
      out.push_back(ep);
    });
  }

  void read(const keys::Servers& s, const toml::node& n, const std::string& k,
            std::vector<Endpoint>& out) const {
    out.clear();
    r_.each(n, k, [&](const toml::node& e, const std::string& ek) {
      out.push_back(endpoint(e, ek, s.default_port));
      if (out.back().port == 0) {
        r_.fail(e, ek, "port must be between 1 and 65535");
      }
    });
  }

  void read(const keys::OneDomain&, const toml::node& n, const std::string& k,
            std::string& out) const {
    // "" is written by print-config for "not set".
    out = n.is_string() && r_.string(n, k).empty() ? std::string() : r_.domain(n, k);
  }

  template <class E>
  void read(const keys::Choice<E>& c, const toml::node& n, const std::string& k, E& out) const {
    // A choice named "true"/"false" may be written as a TOML boolean too.
    const std::string v = n.is_boolean() ? (r_.boolean(n, k) ? "true" : "false") : r_.string(n, k);
    for (const keys::Named<E>& named : c.names) {
      if (v == named.text) {
        out = named.value;
        return;
      }
    }
    r_.fail(n, k, "must be " + one_of(c) + ", got " + in_quotes(v));
  }

 private:
  Endpoint endpoint(const toml::node& n, const std::string& k,
                    std::optional<uint16_t> default_port) const {
    try {
      return parse_endpoint(r_.string(n, k), default_port);
    } catch (const std::invalid_argument& err) {
      r_.fail(n, k, err.what());
    }
  }

  const TomlReader& r_;
  fs::path config_dir_;
  std::map<std::string, std::string> listening_;  // "address:port" → the key that listens there
};

Relay read_relay(const TomlReader& r, ValueReader& values, const toml::node& node,
                 const std::string& prefix) {
  const toml::table& t = r.table(node, prefix, "[[relay]]");
  r.check_keys(t, prefix, names_in("relay"));
  Relay relay;
  keys::for_each_relay_key(
      relay, [&](std::string_view, std::string_view name, auto& value, const auto& kind) {
        if (const toml::node* n = t.get(name)) {
          values.read(kind, *n, prefix + "." + std::string(name), value);
        }
      });
  std::optional<RelayPreset> preset;
  if (!relay.preset.empty()) {
    std::string why;
    preset = relay_preset(relay.preset, why);  // known good: read() checked it
  }
  if (preset && !t.contains("host")) {
    relay.host = preset->host;
  }
  if (preset && !t.contains("tls")) {
    relay.tls = preset->tls;
  }
  if (relay.host.empty()) {
    r.fail(t.source(), prefix + ".host", "required unless preset is set");
  }
  if (!t.contains("port")) {
    // The preset's port while its TLS mode stands (explicit keys override the preset: a written
    // tls brings that mode's port); else the registered ports: submission (RFC 6409),
    // submissions (RFC 8314 §7.3), smtp.
    relay.port = preset && preset->tls == relay.tls ? preset->port
                 : relay.tls == RelayTls::StartTls  ? 587
                 : relay.tls == RelayTls::Implicit  ? 465
                                                    : 25;
  }
  if (!relay.password.empty() && relay.username.empty()) {
    r.fail(*t.get("password"), prefix + ".password", "set without a username");
  }
  if (!relay.username.empty() && relay.password.empty()) {
    r.fail(*t.get("username"), prefix + ".password", "required when username is set");
  }
  return relay;
}

}  // namespace

Config parse_config(std::string_view toml_text, const std::filesystem::path& file_for_errors,
                    const std::filesystem::path& config_dir) {
  const TomlReader r(file_for_errors.string());
  toml::table root;
  try {
    root = toml::parse(toml_text, file_for_errors.string());
  } catch (const toml::parse_error& e) {
    r.fail(e.source(), "", e.description());
  }
  r.check_keys(root, "", names_in(""));

  Config cfg;
  cfg.config_dir = config_dir;
  cfg.file = file_for_errors;
  ValueReader values(r, config_dir);
  // Each section is checked (a table, no unknown keys) when the table reaches its first key.
  std::string_view open_section;
  const toml::table* table = &root;
  keys::for_each_key(
      cfg, [&](std::string_view section, std::string_view name, auto& value, const auto& kind) {
        if (section != open_section) {
          open_section = section;
          table = section.empty() ? &root : nullptr;
          if (const toml::node* n = section.empty() ? nullptr : root.get(section)) {
            table = &r.table(*n, section, "[" + std::string(section) + "]");
            r.check_keys(*table, section, names_in(section));
          }
        }
        if (const toml::node* n = table != nullptr ? table->get(name) : nullptr) {
          const std::string key =
              section.empty() ? std::string(name) : std::string(section) + "." + std::string(name);
          values.read(kind, *n, key, value);
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
  if (cfg.delivery.backoff_max < cfg.delivery.backoff_min) {
    const toml::node* d = root.get("delivery");
    const toml::node* n =
        d != nullptr && d->is_table() ? d->as_table()->get("backoff_max") : nullptr;
    r.fail(n != nullptr ? n->source() : toml::source_region{}, "delivery.backoff_max",
           "must not be below delivery.backoff_min");
  }
  if (const toml::node* n = root.get("relay")) {
    if (n->is_table()) {
      r.fail(*n, "relay", "must be an array of tables: write [[relay]], not [relay]");
    }
    r.each(*n, "relay", [&](const toml::node& e, const std::string& ek) {
      cfg.relays.push_back(read_relay(r, values, e, ek));
    });
  }
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
