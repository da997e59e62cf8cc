// RecentCounts: how much a few counters grew over the last hour, for `hikyaku-util status`,
// kept as a ring of 60 per-minute buckets (bounded memory: 60 × N numbers, whatever the traffic).
//
// It is fed by sampling the counters' cumulative totals (every few seconds and before each
// answer), so the code that counts deliveries needs no second hook: the growth since the previous
// sample is put in the bucket of the sample's minute. A growth is thus at most one sampling
// period late, which "the last hour" tolerates.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace hk::metrics {

template <size_t N>
class RecentCounts {
 public:
  using Totals = std::array<uint64_t, N>;
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr int64_t kMinutes = 60;

  // `totals` are the counters' values now (they start at zero with the process). A total below
  // the previous sample (a counter that cannot go down, so a caller's mistake) adds nothing and
  // becomes the new base.
  void record(TimePoint now, const Totals& totals) {
    Bucket& b = bucket_for(minute_of(now));
    for (size_t i = 0; i < N; ++i) {
      if (totals[i] > last_[i]) {
        b.counts[i] += totals[i] - last_[i];
      }
      last_[i] = totals[i];
    }
  }

  // The sum of the buckets of the 60 minutes up to and including the minute of `now`.
  Totals last_hour(TimePoint now) const {
    int64_t current = minute_of(now);
    Totals sum{};
    for (const Bucket& b : ring_) {
      if (b.minute > current - kMinutes && b.minute <= current) {
        for (size_t i = 0; i < N; ++i) {
          sum[i] += b.counts[i];
        }
      }
    }
    return sum;
  }

 private:
  struct Bucket {
    int64_t minute = -1;  // minutes since the epoch; -1: never used
    Totals counts{};
  };

  static int64_t minute_of(TimePoint t) {
    return std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count();
  }

  // The bucket of `minute`, emptied first when it still holds the same slot of an older hour
  // (or, after the clock stepped back, of a later one).
  Bucket& bucket_for(int64_t minute) {
    int64_t slot = minute % kMinutes;
    Bucket& b = ring_[static_cast<size_t>(slot < 0 ? slot + kMinutes : slot)];
    if (b.minute != minute) {
      b.minute = minute;
      b.counts = Totals{};
    }
    return b;
  }

  std::array<Bucket, kMinutes> ring_{};
  Totals last_{};
};

}  // namespace hk::metrics
