// Metrics: counters and gauges in Prometheus text format, updated from the I/O thread and read by
// the metrics listener on the same thread (relaxed atomics keep offloaded work safe too).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace hk::server {

class Metrics {
 public:
  // `name` may carry labels: `hikyaku_rejected_total{reason="relay"}`.
  void inc(const std::string& name, uint64_t by = 1);
  void set(const std::string& name, int64_t value);
  uint64_t get(const std::string& name) const;
  std::string render() const;  // Prometheus text exposition format 0.0.4

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::atomic<int64_t>>> values_;
  std::atomic<int64_t>& slot(const std::string& name);
};

}  // namespace hk::server
