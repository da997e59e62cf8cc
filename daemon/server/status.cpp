// The status reply: StatusInput as JSON.
#include "daemon/server/status.hpp"

#include <unistd.h>

#include <algorithm>

#include "certs/expiry.hpp"
#include "lib/base/json.hpp"

namespace hk::server {

namespace {

int64_t epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void key(std::string& out, const char* name) {
  base::append_json_string(out, name);
  out += ':';
}

void field(std::string& out, const char* name, std::string_view value) {
  key(out, name);
  base::append_json_string(out, value);
}

void field(std::string& out, const char* name, int64_t value) {
  key(out, name);
  out += std::to_string(value);
}

}  // namespace

std::string status_json(const StatusInput& in) {
  std::string out = "{";
  field(out, "version", in.version);
  out += ',';
  field(out, "hostname", in.hostname);
  out += ',';
  field(out, "pid", static_cast<int64_t>(::getpid()));
  out += ',';
  field(out, "started", epoch(in.started));
  out += ',';
  field(out, "uptime_seconds", std::max<int64_t>(0, epoch(in.now) - epoch(in.started)));
  out += ",\"listeners\":[";
  for (size_t i = 0; i < in.listeners.size(); ++i) {
    out += i ? ",{" : "{";
    field(out, "kind", in.listeners[i].kind);
    out += ',';
    field(out, "address", in.listeners[i].address);
    out += '}';
  }
  out += "],\"queue\":{";
  field(out, "messages", static_cast<int64_t>(in.queue_messages));
  out += ',';
  field(out, "in_flight", static_cast<int64_t>(in.queue_in_flight));
  out += ',';
  field(out, "oldest_age_seconds",
        in.queue_oldest ? std::max<int64_t>(0, epoch(in.now) - epoch(*in.queue_oldest)) : 0);
  out += "},\"last_hour\":{";
  field(out, "delivered", static_cast<int64_t>(in.delivered));
  out += ',';
  field(out, "deferred", static_cast<int64_t>(in.deferred));
  out += ',';
  field(out, "bounced", static_cast<int64_t>(in.bounced));
  out += ',';
  field(out, "expired", static_cast<int64_t>(in.expired));
  out += ',';
  field(out, "dsn_sent", static_cast<int64_t>(in.dsn_sent));
  out += "},\"certificates\":[";
  size_t n = std::min(in.certificates.size(), kMaxStatusCertificates);
  for (size_t i = 0; i < n; ++i) {
    const certs::CertInfo& c = in.certificates[i];
    out += i ? ",{" : "{";
    field(out, "name", c.folder);
    out += ',';
    field(out, "not_after", epoch(c.not_after));
    out += ',';
    field(out, "days_left", certs::days_left(c.not_after, in.now));
    out += ",\"default\":";
    out += c.is_default ? "true" : "false";
    out += '}';
  }
  out += "],";
  field(out, "certificates_total", static_cast<int64_t>(in.certificates.size()));
  out += ",\"reload_errors\":[";
  for (size_t i = 0; i < in.reload_errors.size() && i < kMaxStatusCertificates; ++i) {
    const ReloadError& e = in.reload_errors[i];
    out += i ? ",{" : "{";
    field(out, "what", e.what);
    out += ',';
    field(out, "at", epoch(e.at));
    out += ',';
    field(out, "error", std::string_view(e.error).substr(0, kMaxErrorText));
    out += ",\"resolved\":";
    out += e.resolved ? "true" : "false";
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace hk::server
