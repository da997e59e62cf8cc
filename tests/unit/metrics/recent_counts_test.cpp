// RecentCounts: growth is put in the minute it was sampled, the window is the last 60 minutes,
// old slots are reused, and a clock stepping back or a total going down breaks nothing.
#include "lib/metrics/recent_counts.hpp"

#include <gtest/gtest.h>

namespace hk::metrics {
namespace {

using Counts = RecentCounts<2>;
using std::chrono::minutes;
using std::chrono::seconds;

const Counts::TimePoint kStart{std::chrono::hours(24 * 20000)};  // a whole minute

TEST(RecentCounts, EmptyIsZero) {
  Counts c;
  EXPECT_EQ(c.last_hour(kStart), (Counts::Totals{0, 0}));
}

TEST(RecentCounts, CountsGrowthSinceTheLastSample) {
  Counts c;
  c.record(kStart, {3, 1});
  c.record(kStart + seconds(2), {5, 1});
  c.record(kStart + minutes(1), {6, 4});
  EXPECT_EQ(c.last_hour(kStart + minutes(1)), (Counts::Totals{6, 4}));
  // A sample with no growth adds nothing.
  c.record(kStart + minutes(2), {6, 4});
  EXPECT_EQ(c.last_hour(kStart + minutes(2)), (Counts::Totals{6, 4}));
}

TEST(RecentCounts, ForgetsWhatIsOlderThanAnHour) {
  Counts c;
  c.record(kStart, {10, 0});                // minute 0
  c.record(kStart + minutes(30), {15, 2});  // minute 30: +5, +2
  c.record(kStart + minutes(59), {16, 2});  // minute 59: +1
  EXPECT_EQ(c.last_hour(kStart + minutes(59) + seconds(59)), (Counts::Totals{16, 2}));
  // At minute 60, minute 0 has left the window.
  EXPECT_EQ(c.last_hour(kStart + minutes(60)), (Counts::Totals{6, 2}));
  // Minute 60 reuses minute 0's slot: the old counts are gone, the new ones counted.
  c.record(kStart + minutes(60), {20, 2});
  EXPECT_EQ(c.last_hour(kStart + minutes(60)), (Counts::Totals{10, 2}));
  EXPECT_EQ(c.last_hour(kStart + minutes(90)), (Counts::Totals{5, 0}));
  EXPECT_EQ(c.last_hour(kStart + minutes(200)), (Counts::Totals{0, 0}));
}

TEST(RecentCounts, AGapLongerThanTheRingKeepsOnlyTheNewMinute) {
  Counts c;
  for (int m = 0; m < 60; ++m) {
    c.record(kStart + minutes(m), {static_cast<uint64_t>(m + 1), 0});
  }
  EXPECT_EQ(c.last_hour(kStart + minutes(59)), (Counts::Totals{60, 0}));
  // Three hours later the whole growth since the last sample lands in one minute.
  c.record(kStart + minutes(240), {100, 7});
  EXPECT_EQ(c.last_hour(kStart + minutes(240)), (Counts::Totals{40, 7}));
}

TEST(RecentCounts, ClockSteppingBackAndFallingTotalsAreHarmless) {
  Counts c;
  c.record(kStart + minutes(10), {5, 5});
  c.record(kStart + minutes(5), {6, 5});  // clock stepped back five minutes
  EXPECT_EQ(c.last_hour(kStart + minutes(10)), (Counts::Totals{6, 5}));
  c.record(kStart + minutes(11), {2, 5});  // a total went down: nothing added, new base
  c.record(kStart + minutes(11), {3, 5});
  EXPECT_EQ(c.last_hour(kStart + minutes(11)), (Counts::Totals{7, 5}));
}

}  // namespace
}  // namespace hk::metrics
