// chasquid.conf → hikyaku.toml: hostname, listeners, message size and queue lifetime carry over;
// everything else is reported with what to do instead.
#include "util/import_chasquid_config.hpp"

#include <chrono>
#include <optional>
#include <vector>

#include "domains/local_part.hpp"
#include "lib/base/ascii.hpp"
#include "lib/config/config.hpp"
#include "lib/config/values.hpp"
#include "util/chasquid_format.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;
using prototext::Field;
using prototext::Kind;

// One hikyaku.toml key with chasquid's value.
struct Setting {
  std::string section;  // "" for the top level
  std::string key;
  std::string toml;  // the value as TOML
  std::string from;  // "chasquid.conf:3 smtp_address"
  // True when `cfg` (hikyaku's current configuration) already has this value.
  bool (*same)(const config::Config& cfg, const Setting& s) = nullptr;
  std::vector<config::Endpoint> endpoints;
  uint64_t number = 0;
};

std::string toml_string(const std::string& s) { return "\"" + s + "\""; }

Setting make_setting(std::string section, std::string key, std::string toml, std::string from) {
  Setting s;
  s.section = std::move(section);
  s.key = std::move(key);
  s.toml = std::move(toml);
  s.from = std::move(from);
  return s;
}

std::string endpoint_list(const std::vector<config::Endpoint>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    out += (i == 0 ? "" : ", ") + toml_string(list[i].str());
  }
  return out + "]";
}

// Go's net.Listen address as hikyaku endpoints: ":25" is every address (IPv4 and IPv6).
// nullopt when it names a host instead of an IP address.
std::optional<std::vector<config::Endpoint>> convert_address(const std::string& addr) {
  try {
    if (addr.starts_with(":")) {
      std::string port = addr.substr(1);
      return std::vector<config::Endpoint>{config::parse_endpoint("0.0.0.0:" + port),
                                           config::parse_endpoint("[::]:" + port)};
    }
    return std::vector<config::Endpoint>{config::parse_endpoint(addr)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class ConfigPlanner {
 public:
  ConfigPlanner(const fs::path& file, ImportPlan& plan) : file_(file), plan_(plan) {}

  ChasquidSettings read(const std::vector<Field>& fields);
  void emit(const fs::path& config_dir);

 private:
  void item(Outcome o, const Field& f, std::string detail) {
    plan_.items.push_back(ImportItem{o, "chasquid.conf " + f.name, where(f) + ": " + detail});
  }
  std::string where(const Field& f) const { return file_.string() + ":" + std::to_string(f.line); }
  [[noreturn]] void bad(const Field& f, const std::string& what) const {
    throw ImportError(where(f) + ": \"" + f.name + "\" " + what);
  }
  std::string string_of(const Field& f) const {
    if (f.kind != Kind::String) {
      bad(f, "should be a string");
    }
    return f.text;
  }
  bool bool_of(const Field& f) const {
    bool v = false;
    if (!prototext::to_bool(f, v)) {
      bad(f, "should be true or false");
    }
    return v;
  }
  void listener(const std::string& key, const std::vector<const Field*>& fields);

  fs::path file_;
  ImportPlan& plan_;
  std::vector<Setting> settings_;
};

void ConfigPlanner::listener(const std::string& key, const std::vector<const Field*>& fields) {
  if (fields.empty()) {
    return;
  }
  std::vector<config::Endpoint> all;
  for (const Field* f : fields) {
    std::string addr = string_of(*f);
    if (addr == "systemd") {
      item(Outcome::Todo, *f,
           "\"systemd\" (sockets passed by systemd): hikyaku opens its own; listen." + key +
               " keeps its value (the default is the standard port on every address)");
      continue;
    }
    auto converted = convert_address(addr);
    if (!converted) {
      item(Outcome::Todo, *f,
           "\"" + addr + "\" names a host: hikyaku listens on IP addresses; set listen." + key +
               " by hand");
      continue;
    }
    all.insert(all.end(), converted->begin(), converted->end());
  }
  if (all.empty()) {
    return;
  }
  Setting s = make_setting("listen", key, endpoint_list(all),
                           where(*fields.front()) + " " + fields.front()->name);
  s.endpoints = all;
  s.same = [](const config::Config& cfg, const Setting& st) {
    const config::Config::Listen& l = cfg.listen;
    const std::vector<config::Endpoint>* have = st.key == "smtp"         ? &l.smtp
                                                : st.key == "submission" ? &l.submission
                                                : st.key == "metrics"    ? &l.metrics
                                                                         : &l.submission_tls;
    return *have == st.endpoints;
  };
  settings_.push_back(std::move(s));
}

ChasquidSettings ConfigPlanner::read(const std::vector<Field>& fields) {
  ChasquidSettings out;
  std::vector<const Field*> smtp, submission, submission_tls, metrics;
  for (const Field& f : fields) {
    const std::string& n = f.name;
    if (n == "hostname") {
      std::string host = base::to_lower(string_of(f));
      if (!domains::is_valid_domain_name(host)) {
        item(Outcome::Todo, f, "\"" + host + "\" is not a valid domain name; set hostname by hand");
        continue;
      }
      Setting s = make_setting("", "hostname", toml_string(host), where(f) + " hostname");
      s.same = [](const config::Config& cfg, const Setting& st) {
        return toml_string(cfg.hostname) == st.toml;
      };
      settings_.push_back(std::move(s));
    } else if (n == "max_data_size_mb") {
      unsigned long long mb = 0;
      if (!prototext::to_uint64(f, mb) || mb == 0 || mb > 2048) {
        item(Outcome::Todo, f,
             "\"" + f.text +
                 "\" is outside hikyaku's range (64KiB-2GiB); set "
                 "limits.max_message_size by hand");
        continue;
      }
      // chasquid counts megabytes of 2^20 bytes.
      Setting s =
          make_setting("limits", "max_message_size", toml_string(std::to_string(mb) + "MiB"),
                       where(f) + " max_data_size_mb");
      s.number = mb * 1024 * 1024;
      s.same = [](const config::Config& cfg, const Setting& st) {
        return cfg.limits.max_message_size == st.number;
      };
      settings_.push_back(std::move(s));
    } else if (n == "smtp_address") {
      smtp.push_back(&f);
    } else if (n == "submission_address") {
      submission.push_back(&f);
    } else if (n == "submission_over_tls_address") {
      submission_tls.push_back(&f);
    } else if (n == "monitoring_address") {
      metrics.push_back(&f);
    } else if (n == "give_up_send_after") {
      int64_t secs = 0;
      std::string text = string_of(f);
      if (!chasquid::parse_go_duration(text, secs) || secs < 1 || secs > 30 * 86400) {
        item(Outcome::Todo, f,
             "\"" + text + "\" is not a duration hikyaku accepts (1s-30d); set queue.lifetime");
        continue;
      }
      Setting s = make_setting("queue", "lifetime",
                               toml_string(config::format_duration(std::chrono::seconds(secs))),
                               where(f) + " give_up_send_after");
      s.number = static_cast<uint64_t>(secs);
      s.same = [](const config::Config& cfg, const Setting& st) {
        return static_cast<uint64_t>(cfg.queue.lifetime.count()) == st.number;
      };
      settings_.push_back(std::move(s));
    } else if (n == "suffix_separators") {
      out.suffix_separators = string_of(f);
      if (out.suffix_separators == "+") {
        item(Outcome::Unchanged, f, "\"+\": hikyaku uses the same rule");
      } else {
        item(Outcome::Skipped, f,
             "\"" + out.suffix_separators +
                 "\" has no equivalent: hikyaku always and only treats '+' as the suffix "
                 "separator; addresses with other separators must become aliases");
      }
    } else if (n == "drop_characters") {
      out.drop_characters = string_of(f);
      if (out.drop_characters == ".") {
        item(Outcome::Unchanged, f, "\".\": hikyaku uses the same rule");
      } else {
        item(Outcome::Skipped, f,
             "\"" + out.drop_characters +
                 "\" has no equivalent: hikyaku always and only ignores '.' in local parts");
      }
    } else if (n == "mail_delivery_agent_bin" || n == "mail_delivery_agent_args") {
      item(Outcome::Skipped, f,
           "\"" + string_of(f) +
               "\": no equivalent; hikyaku delivers local mail itself into Maildirs under "
               "data_dir/mail/DOMAIN/USER/ (point the IMAP server there, e.g. dovecot's "
               "mail_location)");
    } else if (n == "data_dir") {
      item(Outcome::Skipped, f,
           "\"" + string_of(f) +
               "\" not carried over: hikyaku keeps its own data_dir. Let chasquid's queue empty "
               "before switching (its queue format is not read)");
    } else if (n == "mail_log_path") {
      item(Outcome::Skipped, f,
           "\"" + string_of(f) +
               "\": no equivalent; hikyaku logs one key=value line per event to stderr "
               "(journald under systemd)");
    } else if (n == "dovecot_auth") {
      if (bool_of(f)) {
        item(Outcome::Skipped, f,
             "true: no equivalent; hikyaku authenticates only against domains/*/users. Add the "
             "users with hikyaku-util user-add");
      }
    } else if (n == "dovecot_userdb_path" || n == "dovecot_client_path") {
      item(Outcome::Skipped, f, "no equivalent (see dovecot_auth)");
    } else if (n == "haproxy_incoming") {
      if (bool_of(f)) {
        item(Outcome::Todo, f,
             "true: set proxy_networks = [\"ADDRESS/32\"] to the address(es) HAProxy connects "
             "from (docs/multi-node.md); chasquid.conf does not say which they are");
      }
    } else if (n == "max_queue_items") {
      item(Outcome::Skipped, f,
           "no equivalent: hikyaku's queue lives on disk; queue.min_free_space guards it");
    } else {
      item(Outcome::Skipped, f, "unknown setting; not imported");
    }
  }
  listener("smtp", smtp);
  listener("submission", submission);
  listener("submission_tls", submission_tls);
  listener("metrics", metrics);
  return out;
}

void ConfigPlanner::emit(const fs::path& config_dir) {
  fs::path toml = config_dir / "hikyaku.toml";
  std::error_code ec;
  if (!fs::exists(toml, ec)) {
    std::string text = "# Written by hikyaku-util import-chasquid from " + file_.string() +
                       ".\n# Every key not written here has its default; deploy/hikyaku.toml "
                       "documents them all.\n";
    std::string section;
    for (const Setting& s : settings_) {
      if (s.section != section) {
        text += "\n[" + s.section + "]\n";
        section = s.section;
      }
      text += s.key + " = " + s.toml + "\n";
      plan_.items.push_back(ImportItem{Outcome::Converted,
                                       "hikyaku.toml " + config::key_path(s.section, s.key),
                                       s.toml + " (from " + s.from + ")"});
    }
    try {
      config::parse_config(text, toml, config_dir);
    } catch (const std::exception& e) {
      throw ImportError(std::string("internal error, the new hikyaku.toml does not parse: ") +
                        e.what());
    }
    plan_.writes.push_back(PlannedWrite{toml, text, std::nullopt, 0644, false});
    return;
  }
  // An existing hikyaku.toml is the operator's: compared, never edited.
  std::optional<config::Config> cfg;
  std::string why;
  try {
    cfg = config::load_config(config_dir);
  } catch (const std::exception& e) {
    why = e.what();
  }
  for (const Setting& s : settings_) {
    std::string key = config::key_path(s.section, s.key);
    std::string line =
        s.key + " = " + s.toml + (s.section.empty() ? "" : " in [" + s.section + "]");
    if (cfg && s.same(*cfg, s)) {
      plan_.items.push_back(ImportItem{Outcome::Unchanged, "hikyaku.toml " + key,
                                       "already " + s.toml + " (as " + s.from + ")"});
    } else {
      plan_.items.push_back(ImportItem{
          Outcome::Todo, "hikyaku.toml " + key,
          toml.string() + " exists and is not edited; to keep chasquid's value (" + s.from +
              ") set: " + line + (why.empty() ? "" : " (it did not load: " + why + ")")});
    }
  }
}

}  // namespace

ChasquidSettings plan_config(const std::string& text, const fs::path& file,
                             const fs::path& config_dir, ImportPlan& plan) {
  std::vector<Field> fields;
  try {
    fields = chasquid::parse_config(text, file.string());
  } catch (const chasquid::FormatError& e) {
    throw ImportError(e.what());
  }
  ConfigPlanner planner(file, plan);
  ChasquidSettings settings = planner.read(fields);
  planner.emit(config_dir);
  return settings;
}

}  // namespace hk::util
