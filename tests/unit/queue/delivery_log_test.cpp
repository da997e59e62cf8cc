// Tests for the DeliveryLog ring: it wraps keeping the newest events, answers newest first,
// filters by queue ID, bounds the answer, and keeps the newest on a change of capacity.
#include "daemon/queue/delivery_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace hk::queue {
namespace {

DeliveryEvent event(int n, std::string id = "") {
  DeliveryEvent e;
  e.time = TimePoint(std::chrono::seconds(1718000000 + n));
  e.id = id.empty() ? "ID" + std::to_string(n) : id;
  e.recipient = "rcpt" + std::to_string(n) + "@example.net";
  e.via = Route::Relay;
  e.result = EventResult::Deferred;
  e.reply = "451 4.4.1 try later " + std::to_string(n);
  return e;
}

std::vector<std::string> recipients(const std::vector<DeliveryEvent>& events) {
  std::vector<std::string> out;
  for (const DeliveryEvent& e : events) {
    out.push_back(e.recipient);
  }
  return out;
}

TEST(DeliveryLog, NewestFirstBeforeItWraps) {
  DeliveryLog log(5);
  for (int n = 1; n <= 3; ++n) {
    log.add(event(n));
  }
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(
      recipients(log.recent("", 10)),
      (std::vector<std::string>{"rcpt3@example.net", "rcpt2@example.net", "rcpt1@example.net"}));
  std::vector<DeliveryEvent> got = log.recent("", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "ID3");
  EXPECT_EQ(got[0].reply, "451 4.4.1 try later 3");
  EXPECT_EQ(got[0].via, Route::Relay);
}

TEST(DeliveryLog, WrapsKeepingTheNewest) {
  DeliveryLog log(4);
  for (int n = 1; n <= 11; ++n) {
    log.add(event(n));
  }
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(recipients(log.recent("", 100)),
            (std::vector<std::string>{"rcpt11@example.net", "rcpt10@example.net",
                                      "rcpt9@example.net", "rcpt8@example.net"}));
}

TEST(DeliveryLog, FiltersByQueueId) {
  DeliveryLog log(10);
  for (int n = 1; n <= 8; ++n) {
    log.add(event(n, n % 2 == 0 ? "EVEN" : "ODD"));
  }
  EXPECT_EQ(recipients(log.recent("EVEN", 100)),
            (std::vector<std::string>{"rcpt8@example.net", "rcpt6@example.net", "rcpt4@example.net",
                                      "rcpt2@example.net"}));
  EXPECT_EQ(recipients(log.recent("ODD", 2)),
            (std::vector<std::string>{"rcpt7@example.net", "rcpt5@example.net"}));
  EXPECT_TRUE(log.recent("NONE", 100).empty());
  EXPECT_TRUE(log.recent("", 0).empty());
}

TEST(DeliveryLog, CapacityChangeKeepsTheNewest) {
  DeliveryLog log(5);
  for (int n = 1; n <= 7; ++n) {  // wrapped: 3..7 held
    log.add(event(n));
  }
  log.set_capacity(3);
  EXPECT_EQ(log.capacity(), 3u);
  EXPECT_EQ(
      recipients(log.recent("", 100)),
      (std::vector<std::string>{"rcpt7@example.net", "rcpt6@example.net", "rcpt5@example.net"}));
  log.add(event(8));
  EXPECT_EQ(
      recipients(log.recent("", 100)),
      (std::vector<std::string>{"rcpt8@example.net", "rcpt7@example.net", "rcpt6@example.net"}));
  log.set_capacity(6);
  log.add(event(9));
  EXPECT_EQ(recipients(log.recent("", 100)),
            (std::vector<std::string>{"rcpt9@example.net", "rcpt8@example.net", "rcpt7@example.net",
                                      "rcpt6@example.net"}));
  log.set_capacity(0);
  log.add(event(10));
  EXPECT_EQ(log.size(), 0u);
  EXPECT_TRUE(log.recent("", 100).empty());
}

TEST(DeliveryLog, Names) {
  EXPECT_EQ(to_string(Route::Maildir), "maildir");
  EXPECT_EQ(to_string(Route::Mx), "mx");
  EXPECT_EQ(to_string(Route::Relay), "relay");
  EXPECT_EQ(to_string(EventResult::Delivered), "delivered");
  EXPECT_EQ(to_string(EventResult::Deferred), "deferred");
  EXPECT_EQ(to_string(EventResult::Bounced), "bounced");
  EXPECT_EQ(to_string(EventResult::Expired), "expired");
  EXPECT_EQ(to_string(EventResult::Dsn), "dsn");
}

// The hot path: adding is a move into a slot; a million adds on a full ring stay far below a
// microsecond each (the bound is loose on purpose, for sanitizer and shared machines).
TEST(DeliveryLog, AddIsCheap) {
  DeliveryLog log(1000);
  DeliveryEvent e = event(1, "1K0YGE493PY941M693M");
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < 1000000; ++n) {
    DeliveryEvent copy = e;
    log.add(std::move(copy));
  }
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("DeliveryLog::add with copy of the event: %.1f ns\n", static_cast<double>(ns) / 1e6);
  EXPECT_LT(ns / 1000000, 2000);
  EXPECT_EQ(log.size(), 1000u);
}

}  // namespace
}  // namespace hk::queue
