// Registry: registration checks and the Prometheus text exposition format 0.0.4.
#include "lib/metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace hk::metrics {

struct Registry::Series {
  std::string labels;  // rendered, without braces: reason="relay",port="smtp"
  std::variant<Counter, Gauge, Histogram> metric;
};

struct Registry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<double> bounds;  // histograms only
  std::vector<std::unique_ptr<Series>> series;
  std::unique_ptr<GaugeSet> set;  // a GaugeSet family instead of fixed series
};

namespace {

// Metric and label names as the data model defines them: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
// the same without ':' for labels, whose names starting with "__" are reserved.
bool valid_name(std::string_view s, bool label) {
  if (s.empty() || (label && s.substr(0, 2) == "__")) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Text format 0.0.4: in HELP, backslash and line feed are escaped; in label values, the double
// quote too.
std::string escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// The shortest text that reads back as `v` (Go's ParseFloat, which Prometheus uses, reads it).
std::string number(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(v)) {
    return "NaN";
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void fail(std::string_view name, const std::string& why) {
  throw std::logic_error("metric " + std::string(name) + ": " + why);
}

// name{labels} or name{labels,extra} or name, then the value.
void line(std::string& out, std::string_view name, std::string_view labels, std::string_view extra,
          std::string_view value) {
  out += name;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) {
      out += ',';
    }
    out += extra;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) noexcept {
  if (std::isnan(v)) {
    return;
  }
  // The first bound not below `v`: buckets are "less than or equal" (le).
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.count += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(s.count);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

void GaugeSet::replace(std::vector<std::pair<std::string, int64_t>> values) {
  std::lock_guard lock(mu_);
  values_ = std::move(values);
}

std::vector<std::pair<std::string, int64_t>> GaugeSet::values() const {
  std::lock_guard lock(mu_);
  return values_;
}

std::vector<double> duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

Registry::Registry() = default;
Registry::~Registry() = default;

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  return std::get<Counter>(add(name, help, Type::Counter, std::move(labels), {}).metric);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  return std::get<Gauge>(add(name, help, Type::Gauge, std::move(labels), {}).metric);
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds, Labels labels) {
  if (bounds.empty() ||
      !std::all_of(bounds.begin(), bounds.end(), [](double b) { return std::isfinite(b); })) {
    fail(name, "histogram bounds must be finite and at least one");
  }
  if (std::adjacent_find(bounds.begin(), bounds.end(), std::greater_equal<>()) != bounds.end()) {
    fail(name, "histogram bounds must be strictly increasing");
  }
  for (const auto& [key, value] : labels) {
    if (key == "le") {
      fail(name, "a histogram may not have the label le, which names its buckets");
    }
  }
  return std::get<Histogram>(add(name, help, Type::Histogram, std::move(labels), bounds).metric);
}

GaugeSet& Registry::gauge_set(std::string_view name, std::string_view help,
                              std::string_view label) {
  if (!valid_name(name, false)) {
    fail(name, "invalid metric name");
  }
  if (!valid_name(label, true)) {
    fail(name, "invalid label name \"" + std::string(label) + "\"");
  }
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f->name == name) {
      fail(name, "registered twice");
    }
  }
  auto f = std::make_unique<Family>();
  f->name = std::string(name);
  f->help = std::string(help);
  f->type = Type::Gauge;
  f->set = std::make_unique<GaugeSet>(std::string(label));
  families_.push_back(std::move(f));
  return *families_.back()->set;
}

Registry::Series& Registry::add(std::string_view name, std::string_view help, Type type,
                                Labels labels, const std::vector<double>& bounds) {
  if (!valid_name(name, false)) {
    fail(name, "invalid metric name");
  }
  std::string text;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& [key, value] = labels[i];
    if (!valid_name(key, true)) {
      fail(name, "invalid label name \"" + key + "\"");
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == key) {
        fail(name, "label " + key + " given twice");
      }
    }
    text += (i ? "," : "") + key + "=\"" + escape(value, true) + "\"";
  }

  std::lock_guard lock(mu_);
  auto it = std::find_if(families_.begin(), families_.end(),
                         [name](const auto& f) { return f->name == name; });
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->type = type;
    f->bounds = bounds;
    families_.push_back(std::move(f));
    it = std::prev(families_.end());
  }
  Family& family = **it;
  if (family.set) {
    fail(name, "already registered as a gauge set");
  }
  if (family.type != type || family.help != help || family.bounds != bounds) {
    fail(name, "registered again with another type, help text or bounds");
  }
  for (const auto& s : family.series) {
    if (s->labels == text) {
      fail(name, "series {" + text + "} registered twice");
    }
  }
  auto series = std::make_unique<Series>();
  series->labels = std::move(text);
  switch (type) {
    case Type::Counter:
      series->metric.emplace<Counter>();
      break;
    case Type::Gauge:
      series->metric.emplace<Gauge>();
      break;
    case Type::Histogram:
      series->metric.emplace<Histogram>(bounds);
      break;
  }
  family.series.push_back(std::move(series));
  return *family.series.back();
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f->name + " " + escape(f->help, false) + "\n";
    const char* type = f->type == Type::Counter ? "counter"
                       : f->type == Type::Gauge ? "gauge"
                                                : "histogram";
    out += "# TYPE " + f->name + " " + type + "\n";
    if (f->set) {
      for (const auto& [value, v] : f->set->values()) {
        line(out, f->name, f->set->label() + "=\"" + escape(value, true) + "\"", "",
             std::to_string(v));
      }
      continue;
    }
    for (const auto& s : f->series) {
      if (const auto* c = std::get_if<Counter>(&s->metric)) {
        line(out, f->name, s->labels, "", std::to_string(c->value()));
      } else if (const auto* g = std::get_if<Gauge>(&s->metric)) {
        line(out, f->name, s->labels, "", std::to_string(g->value()));
      } else {
        const Histogram& h = std::get<Histogram>(s->metric);
        Histogram::Snapshot snap = h.snapshot();
        std::string bucket = f->name + "_bucket";
        for (size_t i = 0; i < snap.cumulative.size(); ++i) {
          std::string le = i < h.bounds().size() ? number(h.bounds()[i]) : "+Inf";
          line(out, bucket, s->labels, "le=\"" + le + "\"", std::to_string(snap.cumulative[i]));
        }
        line(out, f->name + "_sum", s->labels, "", number(snap.sum));
        line(out, f->name + "_count", s->labels, "", std::to_string(snap.count));
      }
    }
  }
  return out;
}

}  // namespace hk::metrics
