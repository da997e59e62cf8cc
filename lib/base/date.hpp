// RFC 5322 §3.3 date-time ("Tue, 11 Jun 2024 06:13:20 +0000") for Date, Received and the DSN
// fields. Day and month names come from a table, never from strftime's %a/%b, which follow
// LC_TIME. And RFC 3339 timestamps in UTC for JSON and listings.
#pragma once

#include <chrono>
#include <string>

namespace hk::base {

enum class DateZone {
  Utc,    // "+0000"
  Local,  // the host's offset at that instant, e.g. "+0900"
};

// How the day of the month is written; RFC 5322 §3.3 allows one or two digits.
enum class DateDay {
  TwoDigits,  // "01 Jun" (Received)
  Minimal,    // "1 Jun" (DSN fields)
};

std::string rfc5322_date(std::chrono::system_clock::time_point t, DateZone zone = DateZone::Utc,
                         DateDay day = DateDay::TwoDigits);

// RFC 3339 §5.6 in UTC: "2024-06-10T06:13:20Z", or with milliseconds "2024-06-10T06:13:20.123Z"
// (what Mailpit's API gives). Times before the epoch are written as they are (rounded down).
enum class DateFraction { None, Millis };
std::string rfc3339_utc(std::chrono::system_clock::time_point t,
                        DateFraction fraction = DateFraction::None);

}  // namespace hk::base
