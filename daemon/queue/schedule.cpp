// The retry schedule.
#include "daemon/queue/schedule.hpp"

#include <algorithm>

namespace hk::queue {

TimePoint next_attempt(TimePoint now, int attempts, const std::vector<std::chrono::seconds>& retry,
                       double jitter01) {
  if (attempts <= 0 || retry.empty()) {
    return now;
  }
  size_t index = std::min(static_cast<size_t>(attempts - 1), retry.size() - 1);
  double j = jitter01 >= 0.0 ? std::min(jitter01, 1.0) : 0.0;  // NaN counts as 0
  double factor = 1.0 + kRetryJitter * (2.0 * j - 1.0);
  std::chrono::duration<double> delay = retry[index] * factor;
  return now + std::chrono::duration_cast<TimePoint::duration>(delay);
}

}  // namespace hk::queue
