// hikyaku-util status: what the running daemon says about itself (through the control socket's
// "status" request), and what can be read from the configuration when it is not running:
// certificates with their expiry, DKIM keys per domain.
#include <boost/json/src.hpp>  // Boost.JSON compiled here, once, for this command only
// (the daemon writes its reply with base::append_json_string; only reading needs a parser)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "certs/cert_store.hpp"
#include "certs/expiry.hpp"
#include "lib/config/config.hpp"
#include "lib/control/client.hpp"
#include "lib/dkim/keyring.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/load_config.hpp"

namespace hk::util {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::system_clock;

constexpr std::chrono::seconds kStatusTimeout{5};

int64_t epoch(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "3d 4h", "2h 5m", "4m 10s", "12s".
std::string span(int64_t s) {
  if (s < 0) {
    s = 0;
  }
  int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  if (d > 0) {
    return std::to_string(d) + "d " + std::to_string(h) + "h";
  }
  if (h > 0) {
    return std::to_string(h) + "h " + std::to_string(m) + "m";
  }
  if (m > 0) {
    return std::to_string(m) + "m " + std::to_string(sec) + "s";
  }
  return std::to_string(sec) + "s";
}

int64_t number(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  const json::value* f = o != nullptr ? o->if_contains(key) : nullptr;
  if (f == nullptr) {
    return 0;
  }
  if (f->is_int64()) {
    return f->as_int64();
  }
  return f->is_uint64() ? static_cast<int64_t>(f->as_uint64()) : 0;
}

std::string text(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  const json::value* f = o != nullptr ? o->if_contains(key) : nullptr;
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
}

const json::array& list(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  const json::object* o = v.if_object();
  const json::value* f = o != nullptr ? o->if_contains(key) : nullptr;
  return f != nullptr && f->is_array() ? f->as_array() : kEmpty;
}

// The certificates as the daemon lists them, read from the folders instead.
json::array certificates_from_disk(const config::Config& cfg, std::string& error) {
  json::array out;
  try {
    certs::CertStore store(cfg.certs_dir(), cfg.hostname, cfg.tls.min_version);
    store.load();
    Clock::time_point now = Clock::now();
    for (const certs::CertInfo& c : store.info()) {
      out.push_back(json::object{{"name", c.folder},
                                 {"not_after", epoch(c.not_after)},
                                 {"days_left", certs::days_left(c.not_after, now)},
                                 {"default", c.is_default}});
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  return out;
}

// domain -> selectors with their algorithms, as the daemon loads them.
json::array dkim_keys(const config::Config& cfg, std::string& error) {
  json::array out;
  try {
    dkim::DkimKeyring ring(cfg.domains_dir());
    for (const auto& [domain, keys] : *ring.current()) {
      json::array selectors;
      for (const dkim::DkimKey& k : keys) {
        selectors.push_back(
            json::object{{"selector", k.selector}, {"algorithm", dkim::algo_name(k.algo)}});
      }
      out.push_back(json::object{{"domain", domain}, {"selectors", std::move(selectors)}});
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  return out;
}

void print_certificates(const json::value& doc, const std::string& error) {
  std::cout << "certificates:\n";
  if (!error.empty()) {
    std::cout << "  error: " << error << "\n";
  }
  const json::array& certs = list(doc, "certificates");
  if (certs.empty() && error.empty()) {
    std::cout << "  none (no STARTTLS)\n";
  }
  size_t width = 0;  // names in one column, up to a point
  for (const json::value& c : certs) {
    width = std::max(width, std::min<size_t>(text(c, "name").size(), 40));
  }
  for (const json::value& c : certs) {
    int64_t days = number(c, "days_left");
    Clock::time_point not_after =
        Clock::from_time_t(static_cast<std::time_t>(number(c, "not_after")));
    std::string name = text(c, "name");
    name.resize(std::max(width, name.size()), ' ');
    std::cout << "  " << name << "  expires " << certs::iso_utc(not_after);
    if (not_after <= Clock::now()) {
      std::cout << "  EXPIRED\n";
    } else {
      std::cout << "  (" << days << (days == 1 ? " day" : " days") << " left)"
                << (days < certs::kExpiryWarning.count() / 24 ? "  WARNING: renew it" : "") << "\n";
    }
  }
}

void print_dkim(const json::value& doc, const std::string& error) {
  std::cout << "dkim keys:\n";
  if (!error.empty()) {
    std::cout << "  error: " << error << "\n";
  }
  const json::array& domains = list(doc, "dkim");
  if (domains.empty() && error.empty()) {
    std::cout << "  none\n";
  }
  for (const json::value& d : domains) {
    std::cout << "  " << text(d, "domain") << ":";
    const json::array& sels = list(d, "selectors");
    for (size_t i = 0; i < sels.size(); ++i) {
      std::cout << (i ? ", " : " ") << text(sels[i], "selector") << " ("
                << text(sels[i], "algorithm") << ")";
    }
    std::cout << "\n";
  }
}

void print_running(const json::value& doc) {
  std::cout << "hikyaku " << text(doc, "version") << " running, pid " << number(doc, "pid")
            << ", up " << span(number(doc, "uptime_seconds")) << ", hostname "
            << text(doc, "hostname") << "\n";
  std::cout << "listeners:\n";
  for (const json::value& l : list(doc, "listeners")) {
    std::string kind = text(l, "kind");
    std::cout << "  " << kind << std::string(kind.size() < 16 ? 16 - kind.size() : 1, ' ')
              << text(l, "address") << "\n";
  }
  const json::value* q = doc.as_object().if_contains("queue");
  json::value none;
  const json::value& queue = q != nullptr ? *q : none;
  int64_t messages = number(queue, "messages");
  std::cout << "queue: " << messages << (messages == 1 ? " message" : " messages") << " ("
            << number(queue, "in_flight") << " being delivered)";
  if (messages > 0) {
    std::cout << ", oldest " << span(number(queue, "oldest_age_seconds"));
  }
  std::cout << "\n";
  const json::value* h = doc.as_object().if_contains("last_hour");
  const json::value& hour = h != nullptr ? *h : none;
  std::cout << "last hour: " << number(hour, "delivered") << " delivered, "
            << number(hour, "deferred") << " deferred, " << number(hour, "bounced") << " bounced, "
            << number(hour, "expired") << " expired, " << number(hour, "dsn_sent")
            << " DSNs sent\n";
}

void print_reload_errors(const json::value& doc) {
  const json::array& errors = list(doc, "reload_errors");
  if (errors.empty()) {
    std::cout << "reload errors: none\n";
    return;
  }
  std::cout << "reload errors:\n";
  for (const json::value& e : errors) {
    Clock::time_point at = Clock::from_time_t(static_cast<std::time_t>(number(e, "at")));
    bool resolved = e.as_object().if_contains("resolved") != nullptr &&
                    e.as_object().at("resolved").is_bool() &&
                    e.as_object().at("resolved").as_bool();
    std::cout << "  " << text(e, "what") << " at " << certs::iso_utc(at) << ": " << text(e, "error")
              << (resolved ? " (resolved by a later reload)" : "") << "\n";
  }
}

int status_main(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"json"}, {"data-dir"});
  args.expect(0, "no arguments");
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  fs::path data = args.value("data-dir") ? fs::path(*args.value("data-dir")) : cfg.data_dir;
  fs::path socket = data / "control.sock";
  control::ControlReply reply = control::control_request(socket, "status", kStatusTimeout);

  json::value doc = json::object{};
  std::string why_not;  // empty: the daemon answered
  if (reply.ok) {
    boost::system::error_code ec;
    json::value parsed = json::parse(reply.text, ec);
    if (ec || !parsed.is_object()) {
      why_not = "hikyaku answered something that is not JSON: " + reply.text.substr(0, 200);
    } else {
      doc = std::move(parsed);
    }
  } else if (reply.error == std::errc::no_such_file_or_directory ||
             reply.error == std::errc::connection_refused) {
    why_not = "hikyaku is not running (nobody answers on " + socket.string() + ")";
  } else if (reply.error == std::errc::permission_denied) {
    why_not = "cannot ask hikyaku: permission denied on " + socket.string() +
              " (run as root or as the daemon's user)";
  } else {
    why_not = "hikyaku did not answer on " + socket.string() + ": " +
              (reply.error ? "" : "hikyaku: ") + reply.text;
  }
  const bool running = why_not.empty();
  json::object& o = doc.as_object();
  o["running"] = running;
  std::string cert_error;
  if (!running) {
    o["error"] = why_not;
    o["certificates"] = certificates_from_disk(cfg, cert_error);
    if (!cert_error.empty()) {
      o["certificates_error"] = cert_error;
    }
  }
  std::string dkim_error;
  o["dkim"] = dkim_keys(cfg, dkim_error);
  if (!dkim_error.empty()) {
    o["dkim_error"] = dkim_error;
  }

  if (args.has("json")) {
    std::cout << json::serialize(doc) << "\n";
    return running ? kExitOk : kExitFailure;
  }
  if (running) {
    print_running(doc);
  } else {
    std::cout << why_not << "\n"
              << "from the configuration in " << ctx.config_dir.string() << ":\n";
  }
  print_certificates(doc, cert_error);
  print_dkim(doc, dkim_error);
  if (running) {
    print_reload_errors(doc);
  }
  return running ? kExitOk : kExitFailure;
}

constexpr Command kCommands[] = {
    {"status", "[--json] [--data-dir DIR]",
     "What the running daemon reports: version, uptime, listeners, queue size and oldest message,\n"
     "deliveries and failures in the last hour, certificates with days to expiry, DKIM keys per\n"
     "domain, the last reload errors. When hikyaku is not running: says so, shows the\n"
     "certificates and DKIM keys read from the configuration, and exits 1.\n"
     "--json: the same as one JSON object (\"running\": true|false).",
     status_main},
};

}  // namespace

std::span<const Command> status_commands() { return kCommands; }

}  // namespace hk::util
