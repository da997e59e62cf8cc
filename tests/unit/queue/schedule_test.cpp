// Tests for the retry schedule.
#include "daemon/queue/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace hk::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kNow = TimePoint(seconds(1718000000));
const std::vector<seconds> kRetry = {seconds(60), seconds(300), seconds(1800), seconds(3600)};

TEST(Schedule, TableWithoutJitter) {
  struct Case {
    int attempts;
    seconds delay;
  };
  // jitter01 = 0.5 is the middle of the spread: exactly the table's delay.
  const std::vector<Case> cases = {
      {0, seconds(0)},    {-3, seconds(0)},     {1, seconds(60)},
      {2, seconds(300)},  {3, seconds(1800)},   {4, seconds(3600)},
      {5, seconds(3600)}, {100, seconds(3600)}, {1000000, seconds(3600)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(next_attempt(kNow, c.attempts, kRetry, 0.5), kNow + c.delay) << c.attempts;
  }
}

TEST(Schedule, EmptyTableMeansNow) { EXPECT_EQ(next_attempt(kNow, 3, {}, 0.5), kNow); }

TEST(Schedule, JitterBounds) {
  struct Case {
    double jitter01;
    milliseconds delay;  // for the 300 s entry
  };
  const std::vector<Case> cases = {
      {0.0, milliseconds(270000)},  {1.0, milliseconds(330000)},
      {0.25, milliseconds(285000)}, {-5.0, milliseconds(270000)},
      {7.0, milliseconds(330000)},  {std::nan(""), milliseconds(270000)},
  };
  for (const Case& c : cases) {
    TimePoint t = next_attempt(kNow, 2, kRetry, c.jitter01);
    EXPECT_EQ(std::chrono::duration_cast<milliseconds>(t - kNow), c.delay) << c.jitter01;
  }
  for (int i = 0; i <= 100; ++i) {
    TimePoint t = next_attempt(kNow, 1, kRetry, i / 100.0);
    EXPECT_GE(t, kNow + milliseconds(54000));
    EXPECT_LE(t, kNow + milliseconds(66000));
  }
}

}  // namespace
}  // namespace hk::queue
