// AbuseGuard with a ManualClock: the sliding window, bans and their cool-down, the growing AUTH
// delay per address and per user name, connection and message rates, and the size bound.
#include "daemon/server/abuse_guard.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::server {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
namespace ip = boost::asio::ip;

class AbuseGuardTest : public ::testing::Test {
 protected:
  AbuseGuardTest() {
    limits.max_auth_failures = 3;
    limits.auth_failures_per_ip = 6;
    limits.auth_failures_per_user = 10;
    limits.auth_failure_window = 600s;
    limits.auth_ban_time = 900s;
    limits.connection_rate_per_ip = 5;
  }
  base::ManualClock clock{base::TimePoint(1'700'000'000s)};
  AbuseGuard guard{clock};
  config::Config::Limits limits;
  ip::address a = ip::make_address("192.0.2.1");
  ip::address b = ip::make_address("192.0.2.2");
};

TEST(SlidingCount, ForgetsWhatLeftTheWindow) {
  SlidingCount c;
  base::TimePoint t(1'700'000'000s);
  for (int i = 0; i < 10; ++i) {
    c.add(t, 60s);
  }
  EXPECT_DOUBLE_EQ(c.value(t, 60s), 10);
  EXPECT_DOUBLE_EQ(c.value(t + 30s, 60s), 10);  // still the current bucket
  // One bucket later, half of the previous one still lies inside the window.
  EXPECT_NEAR(c.value(t + 90s, 60s), 5, 1e-9);
  EXPECT_DOUBLE_EQ(c.value(t + 200s, 60s), 0);
  c.add(t + 200s, 60s);
  EXPECT_DOUBLE_EQ(c.value(t + 200s, 60s), 1);
  // A clock stepping back keeps the count rather than resetting it.
  EXPECT_DOUBLE_EQ(c.value(t, 60s), 1);
}

TEST_F(AbuseGuardTest, DelayGrowsPastMaxAuthFailuresThenTheAddressIsBanned) {
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(guard.auth_banned(a)) << i;
    delays.push_back(guard.auth_failed(a, "alice@example.test", false, limits).count());
  }
  EXPECT_EQ(delays, (std::vector<long>{0, 0, 0, 1000, 2000, 4000}));
  EXPECT_TRUE(guard.auth_banned(a));
  EXPECT_EQ(guard.admit_stranger(a, limits), AbuseGuard::Refusal::AuthBan);
  // Another address is not affected, and may still try (with no delay of its own).
  EXPECT_FALSE(guard.auth_banned(b));
  EXPECT_EQ(guard.admit_stranger(b, limits), AbuseGuard::Refusal::None);
  // The cool-down ends the ban.
  clock.advance(899s);
  EXPECT_TRUE(guard.auth_banned(a));
  clock.advance(2s);
  EXPECT_FALSE(guard.auth_banned(a));
  EXPECT_EQ(guard.admit_stranger(a, limits), AbuseGuard::Refusal::None);
}

TEST_F(AbuseGuardTest, DelayIsCappedAndFailuresAgeOut) {
  limits.auth_failures_per_ip = 100;
  milliseconds last{};
  for (int i = 0; i < 20; ++i) {
    last = guard.auth_failed(a, "u" + std::to_string(i), false, limits);
  }
  EXPECT_EQ(last, AbuseGuard::kMaxAuthDelay);
  EXPECT_FALSE(guard.auth_banned(a));
  clock.advance(1300s);  // more than two windows: everything forgotten
  EXPECT_EQ(guard.auth_failed(a, "x", false, limits).count(), 0);
}

TEST_F(AbuseGuardTest, TrustedAddressesAreSlowedButNeverBanned) {
  for (int i = 0; i < 20; ++i) {
    guard.auth_failed(a, "user" + std::to_string(i), true, limits);
  }
  EXPECT_FALSE(guard.auth_banned(a));
}

TEST_F(AbuseGuardTest, OneUserGuessedFromManyAddressesIsSlowedDown) {
  // One failure from each of 10 addresses: under every per-address threshold.
  for (int i = 0; i < 10; ++i) {
    auto from = ip::make_address("198.51.100." + std::to_string(i + 1));
    EXPECT_EQ(guard.auth_failed(from, "Alice@Example.test", false, limits).count(), 0) << i;
    EXPECT_FALSE(guard.auth_banned(from));
  }
  // The 11th failure for the name (case-insensitively) waits, from a fresh address too.
  auto fresh = ip::make_address("203.0.113.9");
  EXPECT_EQ(guard.auth_failed(fresh, "alice@example.test", false, limits), 1000ms);
  EXPECT_EQ(guard.auth_failed(fresh, "alice@example.test", false, limits), 2000ms);
  EXPECT_FALSE(guard.auth_banned(fresh));
  // Another user name from that address is not slowed by alice's count.
  limits.max_auth_failures = 10;
  EXPECT_EQ(guard.auth_failed(fresh, "bob@example.test", false, limits).count(), 0);
}

TEST_F(AbuseGuardTest, ConnectionRatePerMinute) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(guard.admit_stranger(a, limits), AbuseGuard::Refusal::None) << i;
  }
  EXPECT_EQ(guard.admit_stranger(a, limits), AbuseGuard::Refusal::ConnectionRate);
  EXPECT_EQ(guard.admit_stranger(b, limits), AbuseGuard::Refusal::None);
  clock.advance(130s);
  EXPECT_EQ(guard.admit_stranger(a, limits), AbuseGuard::Refusal::None);
  limits.connection_rate_per_ip = 0;  // off
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(guard.admit_stranger(b, limits), AbuseGuard::Refusal::None);
  }
}

TEST_F(AbuseGuardTest, IPv6CountsBySlash64) {
  auto one = ip::make_address("2001:db8:1:2::1");
  auto other = ip::make_address("2001:db8:1:2:ffff::7");
  auto elsewhere = ip::make_address("2001:db8:1:3::1");
  EXPECT_EQ(AbuseGuard::address_key(one), "2001:db8:1:2::/64");
  for (int i = 0; i < 6; ++i) {
    guard.auth_failed(i % 2 ? one : other, "u", false, limits);
  }
  EXPECT_TRUE(guard.auth_banned(one));
  EXPECT_TRUE(guard.auth_banned(other));
  EXPECT_FALSE(guard.auth_banned(elsewhere));
}

TEST_F(AbuseGuardTest, MessagesPerHour) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(guard.take_message("user:alice", 3)) << i;
  }
  EXPECT_FALSE(guard.take_message("user:alice", 3));
  EXPECT_FALSE(guard.take_message("user:alice", 3));  // refusals do not count
  EXPECT_TRUE(guard.take_message("user:bob", 3));
  EXPECT_TRUE(guard.take_message("user:alice", 0));  // 0 = no limit
  clock.advance(7201s);
  EXPECT_TRUE(guard.take_message("user:alice", 3));
}

TEST(AbuseGuard, TablesStayBoundedAndForgetTheOldestFirst) {
  base::ManualClock clock{base::TimePoint(1'700'000'000s)};
  AbuseGuard guard(clock, 100);
  config::Config::Limits limits;
  limits.auth_failures_per_ip = 1;
  auto first = boost::asio::ip::make_address("10.0.0.1");
  guard.auth_failed(first, "u", false, limits);
  EXPECT_TRUE(guard.auth_banned(first));
  for (int i = 0; i < 10'000; ++i) {
    auto addr = boost::asio::ip::address_v4(0x0b000000u + static_cast<uint32_t>(i));
    guard.admit_stranger(addr, limits);
    guard.take_message("ip:" + addr.to_string(), 10);
  }
  EXPECT_LE(guard.tracked_for_test(), 300u);
  EXPECT_FALSE(guard.auth_banned(first));  // evicted as the least recently used
}

TEST(AbuseGuardDefaults, FitRealTraffic) {
  config::Config::Limits l;
  EXPECT_EQ(l.max_connections_per_ip, 50u);
  // An unfinished command line is bounded well under RFC 5321's 5 minutes per command.
  EXPECT_EQ(l.command_line_timeout, 60s);
  EXPECT_LT(l.command_line_timeout, l.command_timeout);
  EXPECT_EQ(l.stress_timeout, 10s);
  EXPECT_GT(l.stress_threshold, 0u);
  EXPECT_LE(l.stress_threshold, 100u);
  EXPECT_EQ(l.messages_per_hour_trusted, 0u);  // a trusted app is never throttled by default
}

}  // namespace
}  // namespace hk::server
