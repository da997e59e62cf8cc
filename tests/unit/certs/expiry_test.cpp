// Certificate expiry: the 14-day threshold, whole days left, the ISO date, and the lines logged.
#include "certs/expiry.hpp"

#include <gtest/gtest.h>

namespace hk::certs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);  // 2027-01-15T08:00:00Z

TEST(Expiry, Thresholds) {
  EXPECT_EQ(expiry_of(kNow + 90 * 24h, kNow), Expiry::Ok);
  EXPECT_EQ(expiry_of(kNow + 14 * 24h + 1s, kNow), Expiry::Ok);
  EXPECT_EQ(expiry_of(kNow + 14 * 24h, kNow), Expiry::Soon);
  EXPECT_EQ(expiry_of(kNow + 5 * 24h, kNow), Expiry::Soon);
  EXPECT_EQ(expiry_of(kNow + 1s, kNow), Expiry::Soon);
  EXPECT_EQ(expiry_of(kNow, kNow), Expiry::Expired);
  EXPECT_EQ(expiry_of(kNow - 3 * 24h, kNow), Expiry::Expired);
}

TEST(Expiry, DaysLeftRoundDown) {
  EXPECT_EQ(days_left(kNow + 5 * 24h - 1s, kNow), 4);
  EXPECT_EQ(days_left(kNow + 5 * 24h, kNow), 5);
  EXPECT_EQ(days_left(kNow + 1h, kNow), 0);
  EXPECT_EQ(days_left(kNow - 1h, kNow), -1);
  EXPECT_EQ(days_left(kNow - 49h, kNow), -3);
}

TEST(Expiry, IsoDate) { EXPECT_EQ(iso_utc(kNow), "2027-01-15T08:00:00Z"); }

TEST(Expiry, LogsOnlyWhatNeedsAction) {
  std::vector<CertInfo> certs = {
      {"fine.example", {"fine.example"}, kNow + 60 * 24h, true},
      {"soon.example", {"soon.example"}, kNow + 5 * 24h, false},
      {"old.example", {"old.example"}, kNow - 24h, false},
  };
  EXPECT_EQ(log_expiry(certs, kNow), 2u);
  EXPECT_EQ(log_expiry({certs[0]}, kNow), 0u);
}

}  // namespace
}  // namespace hk::certs
