// Registry: typed metric handles (Counter, Gauge, Histogram), registered once with their name,
// help text and labels, and their rendering in the Prometheus text exposition format 0.0.4.
//
// Handles are registered at startup and kept as references by the code that updates them, so no
// call site builds a metric name. An update is one relaxed atomic operation with no lock: any
// thread may update any handle. Only registration and rendering take the registry's lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hk::metrics {

// Label pairs, rendered in this order: {{"reason", "relay"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up (Prometheus "counter"); by convention its name ends in _total.
class Counter {
 public:
  void inc(uint64_t by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (Prometheus "gauge"): sizes, connections in use.
class Gauge {
 public:
  void set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted into buckets by upper bound (Prometheus "histogram"), with their sum.
class Histogram {
 public:
  // `bounds` are the buckets' upper bounds, finite and strictly increasing; the +Inf bucket is
  // implied. The registry checks them before it builds one.
  explicit Histogram(std::vector<double> bounds);

  // A NaN is ignored: it would turn the sum into NaN for good.
  void observe(double v) noexcept;
  // Durations in seconds, the base unit Prometheus names ask for. A negative duration (a clock
  // stepped back) counts as zero.
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) noexcept {
    double s = std::chrono::duration<double>(d).count();
    observe(s < 0 ? 0.0 : s);
  }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // Read while observations go on, the buckets and the sum may be one observation apart; the
  // count is always the +Inf bucket, as the format requires.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0};
};

// A family of gauges whose series come and go with what they describe (one per certificate
// folder): the whole set is replaced at once, under its own lock. Its one label's values must stay
// bounded by configuration (folder names), never by what remote parties send.
class GaugeSet {
 public:
  explicit GaugeSet(std::string label) : label_(std::move(label)) {}
  // Label value -> value; replaces every series. Series render in the order given.
  void replace(std::vector<std::pair<std::string, int64_t>> values);
  std::vector<std::pair<std::string, int64_t>> values() const;
  const std::string& label() const { return label_; }

 private:
  const std::string label_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, int64_t>> values_;
};

// Bucket bounds for durations in seconds, from 5 ms to 10 minutes (an SMTP transaction's DATA
// timeout, RFC 5321 §4.5.3.2.6).
std::vector<double> duration_buckets();

class Registry {
 public:
  Registry();
  ~Registry();
  // Handles point into the registry: it stays where it was made.
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers one series of a family and returns its handle, valid as long as the registry.
  // Every series of a family shares its name, help and type (and bounds, for histograms). These
  // throw std::logic_error on a programmer's error: an invalid name or label, a family
  // registered again with another help text, type or bounds, or a series registered twice.
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       Labels labels = {});

  // A gauge family whose series are replaced whole (GaugeSet); registered once per name.
  GaugeSet& gauge_set(std::string_view name, std::string_view help, std::string_view label);

  // Every family in the order of registration, HELP and TYPE once each, then its series in the
  // order of registration (text format 0.0.4).
  std::string render() const;

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Family;
  struct Series;
  Series& add(std::string_view name, std::string_view help, Type type, Labels labels,
              const std::vector<double>& bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace hk::metrics
