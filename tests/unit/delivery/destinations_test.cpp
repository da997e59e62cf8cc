// Destinations: which replies count as throttling, connection slots per destination and per MX
// address, the rate, and the back-off state machine (on a ManualClock), with its file.
#include "daemon/delivery/destinations.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/files.hpp"
#include "lib/queue/backoff_file.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using std::chrono::seconds;
using test::run;

TEST(ThrottleReply, WhatCountsAsSlowDown) {
  const struct {
    int code;
    const char* enhanced;
    bool throttle;
  } cases[] = {
      {421, "4.7.28", true},   // Gmail: rate limited
      {421, "4.7.0", true},    // Yahoo: unexpected volume
      {421, "", true},         // any 421, at any stage
      {451, "4.7.650", true},  // Outlook: IP reputation
      {450, "4.7.1", true},    // policy, greylisting
      {452, "4.5.3", false},   // too many recipients
      {450, "4.2.1", false},   // one mailbox receiving too fast
      {451, "4.3.0", false},   // local trouble
      {452, "4.2.2", false},   // mailbox full
      {550, "5.7.1", false},   // permanent: not ours to slow down for
      {250, "2.0.0", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_throttle_reply(c.code, c.enhanced), c.throttle) << c.code << " " << c.enhanced;
  }
}

struct Fixture {
  asio::io_context io;
  base::ManualClock clock{base::TimePoint(seconds(1718000000))};
  test::TempDir tmp;

  ShapingLimits limits() {
    ShapingLimits l;
    l.per_host = 1;
    l.per_domain = 2;
    l.slot_wait = std::chrono::milliseconds(50);
    l.busy_retry = seconds(5);
    return l;
  }

  Destinations::Admission admit(Destinations& d, const std::string& dest) {
    auto got = run(io, d.admit(dest));
    EXPECT_TRUE(got.has_value());
    return got ? std::move(*got) : Destinations::Admission{};
  }
};

TEST(Destinations, ConnectionLimitPerDomainPostponesTheRest) {
  Fixture f;
  Destinations d(f.io.get_executor(), f.clock, f.limits(), "");
  Destinations::Admission a = f.admit(d, "example.net");
  Destinations::Admission b = f.admit(d, "example.net");
  ASSERT_TRUE(a.slot);
  ASSERT_TRUE(b.slot);
  EXPECT_EQ(d.in_use_for_test("d:example.net"), 2u);
  // The third waits slot_wait, then is postponed without an attempt: for busy_retry at the
  // latest, and named for the destination, whose next free slot wakes it (on_free).
  std::vector<std::string> freed;
  d.on_free = [&](const std::string& destination) { freed.push_back(destination); };
  Destinations::Admission c = f.admit(d, "example.net");
  EXPECT_FALSE(c.slot);
  EXPECT_TRUE(c.postponed.postponed());
  EXPECT_EQ(c.postponed.status, queue::DeliveryResult::Status::Transient);
  EXPECT_EQ(c.postponed.postponed_until, f.clock.now() + seconds(5));
  EXPECT_EQ(c.postponed.postponed_for, "example.net");
  // Other destinations are not held up.
  EXPECT_TRUE(f.admit(d, "other.example").slot);  // released at once: other.example freed
  EXPECT_EQ(freed, std::vector<std::string>{"other.example"});
  a.slot.release();
  EXPECT_EQ(d.in_use_for_test("d:example.net"), 1u);
  EXPECT_EQ(freed, (std::vector<std::string>{"other.example", "example.net"}));
  EXPECT_TRUE(f.admit(d, "example.net").slot);
}

TEST(Destinations, ReleasedSlotGoesToTheWaiter) {
  Fixture f;
  ShapingLimits l = f.limits();
  l.slot_wait = seconds(5);
  Destinations d(f.io.get_executor(), f.clock, l, "");
  Destinations::Slot first = run(f.io, d.host_slot("192.0.2.1")).value();
  ASSERT_TRUE(first);
  std::optional<bool> second;
  asio::co_spawn(f.io, d.host_slot("192.0.2.1"),
                 [&](std::exception_ptr, Destinations::Slot s) { second = static_cast<bool>(s); });
  test::drain(f.io, std::chrono::milliseconds(20));
  EXPECT_FALSE(second.has_value());  // waiting
  first.release();
  test::drain(f.io, std::chrono::milliseconds(20));
  ASSERT_TRUE(second.has_value());  // handed over long before slot_wait
  EXPECT_TRUE(*second);
  EXPECT_EQ(d.in_use_for_test("h:192.0.2.1"), 0u);  // the handed-over slot was dropped by then
}

TEST(Destinations, BackoffGrowsIsCappedAndEndsWithASuccess) {
  Fixture f;
  ShapingLimits l = f.limits();
  l.backoff_min = seconds(60);
  l.backoff_max = seconds(200);
  Destinations d(f.io.get_executor(), f.clock, l, "");
  base::TimePoint t0 = f.clock.now();
  d.throttled("gmail.test", t0, "421 4.7.28 rate limited");
  ASSERT_TRUE(d.backoff_until("gmail.test"));
  EXPECT_EQ(*d.backoff_until("gmail.test"), t0 + seconds(60));
  // While it lasts, nothing is tried: postponed to its end.
  Destinations::Admission a = f.admit(d, "gmail.test");
  EXPECT_FALSE(a.slot);
  EXPECT_EQ(a.postponed.postponed_until, t0 + seconds(60));
  EXPECT_NE(a.postponed.text.find("421 4.7.28 rate limited"), std::string::npos);
  // A deferral from a delivery begun before the back-off does not make it longer.
  f.clock.advance(seconds(1));
  d.throttled("gmail.test", t0 - seconds(1), "421 4.7.28 again");
  EXPECT_EQ(*d.backoff_until("gmail.test"), t0 + seconds(60));
  // Over: one connection at a time until a success (probing).
  f.clock.advance(seconds(60));
  EXPECT_FALSE(d.backoff_until("gmail.test"));
  Destinations::Admission probe = f.admit(d, "gmail.test");
  ASSERT_TRUE(probe.slot);
  EXPECT_FALSE(f.admit(d, "gmail.test").slot);
  // The probe is deferred again: twice as long; then capped at backoff_max.
  base::TimePoint t1 = f.clock.now();
  d.throttled("gmail.test", t1, "421 4.7.28 rate limited");
  probe.slot.release();
  EXPECT_EQ(*d.backoff_until("gmail.test"), t1 + seconds(120));
  f.clock.advance(seconds(121));
  base::TimePoint t2 = f.clock.now();
  d.throttled("gmail.test", t2, "421 4.7.28 rate limited");
  EXPECT_EQ(*d.backoff_until("gmail.test"), t2 + seconds(200));
  // A success of a delivery begun before the last deferral says nothing...
  d.succeeded("gmail.test", t1);
  EXPECT_TRUE(d.backoff_until("gmail.test"));
  // ...one begun after it ends the back-off, and the normal limits apply again.
  f.clock.advance(seconds(200));
  d.succeeded("gmail.test", f.clock.now());
  EXPECT_FALSE(d.backoff_until("gmail.test"));
  Destinations::Admission x = f.admit(d, "gmail.test");
  Destinations::Admission y = f.admit(d, "gmail.test");
  EXPECT_TRUE(x.slot);
  EXPECT_TRUE(y.slot);
  // The next deferral starts from backoff_min again.
  d.throttled("gmail.test", f.clock.now(), "421 4.7.0 slow down");
  EXPECT_EQ(*d.backoff_until("gmail.test"), f.clock.now() + seconds(60));
}

TEST(Destinations, RateSpacesMessages) {
  Fixture f;
  ShapingLimits l = f.limits();
  l.rate = 30;  // one every 2 s
  Destinations d(f.io.get_executor(), f.clock, l, "");
  Destinations::Admission a = f.admit(d, "example.net");
  ASSERT_TRUE(a.slot);
  a.slot.release();
  Destinations::Admission b = f.admit(d, "example.net");
  EXPECT_FALSE(b.slot);
  EXPECT_EQ(b.postponed.postponed_until, f.clock.now() + seconds(2));
  f.clock.advance(seconds(2));
  EXPECT_TRUE(f.admit(d, "example.net").slot);
}

TEST(Destinations, BackoffSurvivesARestartThroughItsFile) {
  Fixture f;
  const std::filesystem::path file = queue::backoff_path(f.tmp.path());
  base::TimePoint t0 = f.clock.now();
  {
    Destinations d(f.io.get_executor(), f.clock, f.limits(), file);
    d.throttled("gmail.test", t0, "421 4.7.28 rate\r\nlimited");
    d.throttled("relay:smtp.example.net", t0, "451 4.7.650 reputation");
  }
  std::string text;
  ASSERT_FALSE(base::read_file(file, text));
  std::vector<queue::Backoff> saved = queue::parse_backoffs(text);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].destination, "gmail.test");
  EXPECT_EQ(saved[0].level, 1u);
  EXPECT_EQ(saved[0].until, t0 + seconds(60));
  EXPECT_EQ(saved[0].reply, "421 4.7.28 rate  limited");
  EXPECT_EQ(saved[1].destination, "relay:smtp.example.net");

  Destinations again(f.io.get_executor(), f.clock, f.limits(), file);
  ASSERT_TRUE(again.backoff_until("gmail.test"));
  EXPECT_EQ(*again.backoff_until("gmail.test"), t0 + seconds(60));
  again.succeeded("gmail.test", f.clock.now());
  ASSERT_FALSE(base::read_file(file, text));
  saved = queue::parse_backoffs(text);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].destination, "relay:smtp.example.net");
}

TEST(BackoffFile, DamagedLinesAreSkipped) {
  std::vector<queue::Backoff> got = queue::parse_backoffs(
      "# comment\n\ngmail.test 2 100 160 421 4.7.28 slow\nbroken\nx.test one 1 2 r\n"
      "y.test 1 5 6\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].destination, "gmail.test");
  EXPECT_EQ(got[0].level, 2u);
  EXPECT_EQ(got[0].since, base::TimePoint(seconds(100)));
  EXPECT_EQ(got[0].until, base::TimePoint(seconds(160)));
  EXPECT_EQ(got[0].reply, "421 4.7.28 slow");
  EXPECT_EQ(got[1].destination, "y.test");
  EXPECT_EQ(got[1].reply, "");
  EXPECT_EQ(queue::parse_backoffs(queue::format_backoffs(got)).size(), 2u);
}

}  // namespace
}  // namespace hk::delivery
