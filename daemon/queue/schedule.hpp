// The retry schedule: when to try a deferred recipient again. A pure function with time passed
// in, so that it is testable without a clock.
#pragma once

#include <chrono>
#include <vector>

#include "lib/queue/envelope.hpp"

namespace hk::queue {

// Delays are spread by up to ±kRetryJitter of their length so that messages deferred together
// (a destination that was down) do not all come back in the same second.
inline constexpr double kRetryJitter = 0.1;

// The time of the next attempt after `attempts` attempts (1 after the first failure): `now` plus
// retry[attempts - 1], the last entry repeating once the table runs out, scaled by
// 1 + kRetryJitter * (2 * jitter01 - 1) with jitter01 in [0, 1] (clamped). Returns `now` when
// attempts <= 0 or the table is empty.
TimePoint next_attempt(TimePoint now, int attempts, const std::vector<std::chrono::seconds>& retry,
                       double jitter01);

}  // namespace hk::queue
