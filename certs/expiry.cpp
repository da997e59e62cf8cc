// Certificate expiry: the thresholds and the log lines.
#include "certs/expiry.hpp"

#include <ctime>

#include "lib/base/log.hpp"

namespace hk::certs {

Expiry expiry_of(std::chrono::system_clock::time_point not_after,
                 std::chrono::system_clock::time_point now) {
  if (not_after <= now) {
    return Expiry::Expired;
  }
  return not_after - now <= kExpiryWarning ? Expiry::Soon : Expiry::Ok;
}

int64_t days_left(std::chrono::system_clock::time_point not_after,
                  std::chrono::system_clock::time_point now) {
  return std::chrono::floor<std::chrono::days>(not_after - now).count();
}

std::string iso_utc(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

size_t log_expiry(const std::vector<CertInfo>& certs, std::chrono::system_clock::time_point now) {
  size_t lines = 0;
  for (const CertInfo& c : certs) {
    switch (expiry_of(c.not_after, now)) {
      case Expiry::Ok:
        break;
      case Expiry::Soon:
        base::log_warn() << "certs name=" << base::log_quote(c.folder)
                         << " not_after=" << iso_utc(c.not_after)
                         << " days_left=" << days_left(c.not_after, now) << " result=expires-soon";
        ++lines;
        break;
      case Expiry::Expired:
        base::log_error() << "certs name=" << base::log_quote(c.folder)
                          << " not_after=" << iso_utc(c.not_after) << " result=expired"
                          << " reason=\"served anyway; renew it\"";
        ++lines;
        break;
    }
  }
  return lines;
}

}  // namespace hk::certs
