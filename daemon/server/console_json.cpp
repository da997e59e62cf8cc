// The console endpoints' JSON; see console_json.hpp.
#include "daemon/server/console_json.hpp"

#include <ctime>

#include "lib/base/date.hpp"
#include "lib/base/json.hpp"
#include "lib/queue/delivery_result.hpp"

namespace hk::server {

namespace {

void key(std::string& out, const char* name) {
  base::append_json_string(out, name);
  out += ':';
}

void field(std::string& out, const char* name, std::string_view value) {
  key(out, name);
  base::append_json_string(out, value);
}

void field(std::string& out, const char* name, uint64_t value) {
  key(out, name);
  out += std::to_string(value);
}

void flag(std::string& out, const char* name, bool value) {
  key(out, name);
  out += value ? "true" : "false";
}

std::string_view state_name(queue::RcptState s) {
  switch (s) {
    case queue::RcptState::Pending:
      return "pending";
    case queue::RcptState::Delivered:
      return "delivered";
    case queue::RcptState::Failed:
      return "failed";
  }
  return "pending";
}

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point t) { return base::rfc3339_utc(t); }

std::string queue_page_json(size_t total, size_t start, const std::vector<QueuedMessage>& page) {
  std::string out = "{";
  field(out, "total", total);
  out += ',';
  field(out, "start", start);
  out += ',';
  field(out, "count", page.size());
  out += ",\"messages\":[";
  for (size_t i = 0; i < page.size(); ++i) {
    const queue::Envelope& env = page[i].env;
    out += i ? ",{" : "{";
    field(out, "ID", env.id);
    out += ',';
    field(out, "Created", rfc3339(env.created));
    out += ',';
    field(out, "From", env.from);
    out += ',';
    field(out, "Size", page[i].size);
    out += ",\"Recipients\":[";
    for (size_t k = 0; k < env.rcpts.size(); ++k) {
      const queue::Recipient& r = env.rcpts[k];
      out += k ? ",{" : "{";
      field(out, "Address", r.address);
      out += ',';
      flag(out, "Local", r.local);
      out += ',';
      field(out, "State", state_name(r.state));
      out += ',';
      field(out, "Attempts", static_cast<uint64_t>(r.attempts < 0 ? 0 : r.attempts));
      out += ',';
      field(out, "LastReply", queue::reply_line(r.last_code, r.last_enhanced, r.last_text));
      out += ',';
      // The epoch means "never tried": due at once, i.e. since the message was queued.
      queue::TimePoint next = r.next_attempt == queue::TimePoint{} ? env.created : r.next_attempt;
      field(out, "NextAttempt", r.state == queue::RcptState::Pending ? rfc3339(next) : "");
      out += '}';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string delivery_events_json(const std::vector<queue::DeliveryEvent>& events) {
  std::string out = "{\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    const queue::DeliveryEvent& e = events[i];
    out += i ? ",{" : "{";
    field(out, "Time", rfc3339(e.time));
    out += ',';
    field(out, "ID", e.id);
    out += ',';
    field(out, "Recipient", e.recipient);
    out += ',';
    field(out, "Via", queue::to_string(e.via));
    out += ',';
    field(out, "Result", queue::to_string(e.result));
    out += ',';
    field(out, "Reply", e.reply);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string relay_test_result_json(size_t relay, const config::Relay& r,
                                   const std::vector<delivery::ProbeStep>& steps, bool ok,
                                   const std::string& why) {
  std::string out = "{";
  field(out, "Relay", relay);
  out += ',';
  field(out, "Host", r.host);
  out += ',';
  field(out, "Port", r.port);
  out += ",\"Steps\":[";
  bool failed = false;
  bool first = true;
  for (const delivery::ProbeStep& s : steps) {
    if (failed && s.name == "quit") {
      continue;  // the goodbye after a failure says nothing about the relay
    }
    failed = failed || (!s.ok && s.name != "quit");
    out += first ? "{" : ",{";
    first = false;
    field(out, "Step", s.name);
    out += ',';
    flag(out, "Ok", s.ok);
    out += ',';
    field(out, "Detail", s.detail);
    out += '}';
  }
  out += "],";
  flag(out, "Ok", ok);
  if (!ok) {
    out += ',';
    field(out, "Error", why.empty() ? "no answer" : why);
  }
  out += '}';
  return out;
}

std::string dns_rows_json(const std::string& domain, const std::vector<dns_check::Row>& rows) {
  std::string out = "{";
  field(out, "Domain", domain);
  out += ",\"Rows\":[";
  bool ok = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    out += i ? ",{" : "{";
    field(out, "What", rows[i].what);
    out += ',';
    field(out, "Status", rows[i].status);
    out += ',';
    field(out, "Detail", rows[i].detail);
    out += '}';
    ok = ok && dns_check::row_ok(rows[i]);
  }
  out += "],";
  flag(out, "Ok", ok);
  out += '}';
  return out;
}

std::string health_page_json(const std::string& status, const std::vector<std::string>& console,
                             const std::vector<std::string>& domains,
                             const std::vector<DkimKeyInfo>& keys,
                             const std::vector<config::Relay>& relays) {
  std::string out = "{\"Status\":";
  out += status.empty() ? "{}" : status;
  out += ",\"Console\":[";
  for (size_t i = 0; i < console.size(); ++i) {
    out += i ? "," : "";
    base::append_json_string(out, console[i]);
  }
  out += "],\"Domains\":[";
  for (size_t i = 0; i < domains.size(); ++i) {
    out += i ? "," : "";
    base::append_json_string(out, domains[i]);
  }
  out += "],\"DkimKeys\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    out += i ? ",{" : "{";
    field(out, "Domain", keys[i].domain);
    out += ',';
    field(out, "Selector", keys[i].selector);
    out += ',';
    field(out, "Algorithm", keys[i].algorithm);
    out += '}';
  }
  out += "],\"Relays\":[";
  for (size_t i = 0; i < relays.size(); ++i) {
    const config::Relay& r = relays[i];
    out += i ? ",{" : "{";
    field(out, "Relay", i);
    out += ',';
    field(out, "Host", r.host);
    out += ',';
    field(out, "Port", r.port);
    out += ',';
    field(out, "Tls", config::to_string(r.tls));
    out += ',';
    field(out, "Username", r.username);
    out += ",\"Domains\":[";
    for (size_t k = 0; k < r.domains.size(); ++k) {
      out += k ? "," : "";
      base::append_json_string(out, r.domains[k]);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace hk::server
