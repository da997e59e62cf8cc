// Metrics registry and Prometheus rendering.
#include "lib/metrics/metrics.hpp"

namespace hk::server {

std::atomic<int64_t>& Metrics::slot(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& p = values_[name];
  if (!p) {
    p = std::make_unique<std::atomic<int64_t>>(0);
  }
  return *p;
}

void Metrics::inc(const std::string& name, uint64_t by) {
  slot(name).fetch_add(static_cast<int64_t>(by), std::memory_order_relaxed);
}

void Metrics::set(const std::string& name, int64_t value) {
  slot(name).store(value, std::memory_order_relaxed);
}

uint64_t Metrics::get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(name);
  return it == values_.end() ? 0 : static_cast<uint64_t>(it->second->load());
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  std::string last_family;
  for (const auto& [name, value] : values_) {
    std::string family = name.substr(0, name.find('{'));
    if (family != last_family) {
      bool counter = family.size() > 6 && family.compare(family.size() - 6, 6, "_total") == 0;
      out += "# TYPE " + family + (counter ? " counter\n" : " gauge\n");
      last_family = family;
    }
    out += name + " " + std::to_string(value->load(std::memory_order_relaxed)) + "\n";
  }
  return out;
}

}  // namespace hk::server
