// lib/base/date.hpp: RFC 5322 §3.3 dates, independent of LC_TIME.
#include "lib/base/date.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <cstdlib>
#include <string>

namespace hk::base {
namespace {

using std::chrono::system_clock;

system_clock::time_point at(std::time_t t) { return system_clock::from_time_t(t); }

TEST(Date, UtcForms) {
  struct Case {
    std::time_t t;
    DateDay day;
    std::string want;
  };
  const Case cases[] = {
      {0, DateDay::TwoDigits, "Thu, 01 Jan 1970 00:00:00 +0000"},
      {0, DateDay::Minimal, "Thu, 1 Jan 1970 00:00:00 +0000"},
      {1718086400, DateDay::TwoDigits, "Tue, 11 Jun 2024 06:13:20 +0000"},
      {1718086400, DateDay::Minimal, "Tue, 11 Jun 2024 06:13:20 +0000"},
      {951782400, DateDay::TwoDigits, "Tue, 29 Feb 2000 00:00:00 +0000"},
      {1735689599, DateDay::Minimal, "Tue, 31 Dec 2024 23:59:59 +0000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(rfc5322_date(at(c.t), DateZone::Utc, c.day), c.want) << c.t;
  }
  EXPECT_EQ(rfc5322_date(at(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(Date, LocalOffsetAndLocale) {
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz != nullptr ? old_tz : "";
  struct Case {
    const char* tz;
    std::string want;
  };
  const Case cases[] = {
      {"UTC0", "Tue, 11 Jun 2024 06:13:20 +0000"},
      {"JST-9", "Tue, 11 Jun 2024 15:13:20 +0900"},
      {"<-0330>3:30", "Tue, 11 Jun 2024 02:43:20 -0330"},
  };
  for (const Case& c : cases) {
    setenv("TZ", c.tz, 1);
    tzset();
    EXPECT_EQ(rfc5322_date(at(1718086400), DateZone::Local), c.want) << c.tz;
  }
  if (old_tz != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  // Day and month names never follow LC_TIME (where a non-English locale is installed at all).
  if (std::setlocale(LC_TIME, "fr_FR.UTF-8") != nullptr) {
    EXPECT_EQ(rfc5322_date(at(1718086400)), "Tue, 11 Jun 2024 06:13:20 +0000");
    std::setlocale(LC_TIME, "C");
  }
}

TEST(Rfc3339, UtcWithAndWithoutMilliseconds) {
  using std::chrono::milliseconds;
  const auto t = std::chrono::system_clock::time_point(milliseconds(1718000000123));
  EXPECT_EQ(rfc3339_utc(t), "2024-06-10T06:13:20Z");
  EXPECT_EQ(rfc3339_utc(t, DateFraction::Millis), "2024-06-10T06:13:20.123Z");
  EXPECT_EQ(rfc3339_utc(at(0), DateFraction::Millis), "1970-01-01T00:00:00.000Z");
  // Before the epoch the seconds round down and the fraction stays positive.
  EXPECT_EQ(
      rfc3339_utc(std::chrono::system_clock::time_point(milliseconds(-1)), DateFraction::Millis),
      "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(rfc3339_utc(at(4102444799)), "2099-12-31T23:59:59Z");
}

}  // namespace
}  // namespace hk::base
