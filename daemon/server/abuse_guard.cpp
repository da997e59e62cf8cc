// Failed-login, connection and message counters across connections.
#include "daemon/server/abuse_guard.hpp"

#include <algorithm>
#include <cmath>

#include "lib/base/ascii.hpp"

namespace hk::server {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kMinute{60};
constexpr seconds kHour{3600};

// 0 below `free` events, then 1 s, 2 s, 4 s ... up to kMaxAuthDelay.
milliseconds growing_delay(double events, size_t free) {
  auto n = static_cast<long>(std::floor(events + 1e-9));
  auto over = n - static_cast<long>(free);
  if (over <= 0) {
    return milliseconds{0};
  }
  milliseconds d{1000};
  for (long i = 1; i < over && d < AbuseGuard::kMaxAuthDelay; ++i) {
    d *= 2;
  }
  return std::min(d, AbuseGuard::kMaxAuthDelay);
}

}  // namespace

void SlidingCount::add(base::TimePoint now, seconds window) {
  value(now, window);  // rolls the buckets forward
  ++current;
}

double SlidingCount::value(base::TimePoint now, seconds window) {
  if (now < start) {
    return previous + current;  // the clock stepped back: count everything still held
  }
  auto elapsed = now - start;
  if (elapsed >= 2 * window) {
    previous = 0;
    current = 0;
    start = now;
    elapsed = {};
  } else if (elapsed >= window) {
    previous = current;
    current = 0;
    start += window;
    elapsed -= window;
  }
  double left =
      1.0 - std::chrono::duration<double>(elapsed) / std::chrono::duration<double>(window);
  return previous * left + current;
}

AbuseGuard::AbuseGuard(const base::Clock& clock, size_t max_entries)
    : clock_(clock), addresses_(max_entries), users_(max_entries), senders_(max_entries) {}

std::string AbuseGuard::address_key(const boost::asio::ip::address& client) {
  if (client.is_v6()) {
    auto bytes = client.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return client.to_string();
}

AbuseGuard::Refusal AbuseGuard::admit_stranger(const boost::asio::ip::address& client,
                                               const config::Config::Limits& limits) {
  base::TimePoint now = clock_.now();
  AddressState& a = addresses_.get(address_key(client));
  if (now < a.banned_until) {
    return Refusal::AuthBan;
  }
  if (limits.connection_rate_per_ip == 0) {
    return Refusal::None;
  }
  // Every attempt counts, refused ones too (as anvil counts them): a client that keeps hammering
  // stays refused until it slows down.
  a.connections.add(now, kMinute);
  if (a.connections.value(now, kMinute) > static_cast<double>(limits.connection_rate_per_ip)) {
    return Refusal::ConnectionRate;
  }
  return Refusal::None;
}

bool AbuseGuard::auth_banned(const boost::asio::ip::address& client) {
  AddressState* a = addresses_.find(address_key(client));
  return a != nullptr && clock_.now() < a->banned_until;
}

milliseconds AbuseGuard::auth_failed(const boost::asio::ip::address& client, std::string_view user,
                                     bool trusted, const config::Config::Limits& limits) {
  base::TimePoint now = clock_.now();
  const seconds window = limits.auth_failure_window;
  AddressState& a = addresses_.get(address_key(client));
  a.auth_failures.add(now, window);
  double by_address = a.auth_failures.value(now, window);
  if (!trusted && by_address + 1e-9 >= static_cast<double>(limits.auth_failures_per_ip)) {
    a.banned_until = now + limits.auth_ban_time;
  }
  SlidingCount& u = users_.get(base::to_lower(user));
  u.add(now, window);
  double by_user = u.value(now, window);
  return std::max(growing_delay(by_address, limits.max_auth_failures),
                  growing_delay(by_user, limits.auth_failures_per_user));
}

bool AbuseGuard::take_message(const std::string& sender, size_t per_hour) {
  if (per_hour == 0) {
    return true;
  }
  base::TimePoint now = clock_.now();
  SlidingCount& s = senders_.get(sender);
  if (s.value(now, kHour) + 1 > static_cast<double>(per_hour) + 1e-9) {
    return false;
  }
  s.add(now, kHour);
  return true;
}

}  // namespace hk::server
