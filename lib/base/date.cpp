// RFC 5322 date-time formatting.
#include "lib/base/date.hpp"

#include <array>
#include <cstdio>
#include <ctime>

namespace hk::base {
namespace {

void append_two(std::string& out, long v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

}  // namespace

std::string rfc5322_date(std::chrono::system_clock::time_point t, DateZone zone, DateDay day) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  bool ok =
      zone == DateZone::Utc ? gmtime_r(&tt, &tm) != nullptr : localtime_r(&tt, &tm) != nullptr;
  if (!ok) {
    // Out of the range struct tm can hold: the epoch is wrong too, but still a valid date.
    tt = 0;
    gmtime_r(&tt, &tm);
  }
  long offset = zone == DateZone::Utc ? 0 : tm.tm_gmtoff / 60;  // minutes east of UTC
  std::string out = kDays[static_cast<size_t>(tm.tm_wday) % 7];
  out += ", ";
  if (day == DateDay::TwoDigits || tm.tm_mday >= 10) {
    append_two(out, tm.tm_mday);
  } else {
    out += static_cast<char>('0' + tm.tm_mday);
  }
  out += ' ';
  out += kMonths[static_cast<size_t>(tm.tm_mon) % 12];
  out += ' ';
  out += std::to_string(tm.tm_year + 1900);
  out += ' ';
  append_two(out, tm.tm_hour);
  out += ':';
  append_two(out, tm.tm_min);
  out += ':';
  append_two(out, tm.tm_sec);
  out += offset < 0 ? " -" : " +";
  long magnitude = offset < 0 ? -offset : offset;
  append_two(out, magnitude / 60);
  append_two(out, magnitude % 60);
  return out;
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t, DateFraction fraction) {
  using namespace std::chrono;
  const int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {  // before the epoch: round the seconds down, keep the fraction positive
    frac += 1000;
    secs -= 1;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[48];
  int n = fraction == DateFraction::Millis
              ? std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<int>(frac))
              : std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace hk::base
