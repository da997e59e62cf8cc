// Tests for the metrics registry: the exact text format 0.0.4 it renders (HELP and TYPE once per
// family, labels escaped, histogram buckets cumulative), registration errors, and updates from
// several threads at once.
#include "lib/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hk::metrics {
namespace {

TEST(Registry, RendersFamiliesOnceInRegistrationOrder) {
  Registry reg;
  Counter& relay = reg.counter("hk_rejected_total", "Rejected.", {{"reason", "relay"}});
  Gauge& queue = reg.gauge("hk_queue_size", "Messages queued.");
  Counter& spf = reg.counter("hk_rejected_total", "Rejected.", {{"reason", "spf"}});
  relay.inc();
  relay.inc(2);
  spf.inc();
  queue.set(7);
  queue.add(-2);
  EXPECT_EQ(reg.render(),
            "# HELP hk_rejected_total Rejected.\n"
            "# TYPE hk_rejected_total counter\n"
            "hk_rejected_total{reason=\"relay\"} 3\n"
            "hk_rejected_total{reason=\"spf\"} 1\n"
            "# HELP hk_queue_size Messages queued.\n"
            "# TYPE hk_queue_size gauge\n"
            "hk_queue_size 5\n");
}

TEST(Registry, RendersSeriesAtZeroBeforeTheirFirstUpdate) {
  Registry reg;
  reg.counter("hk_accepted_total", "Accepted.");
  EXPECT_NE(reg.render().find("\nhk_accepted_total 0\n"), std::string::npos) << reg.render();
}

TEST(Registry, EscapesHelpAndLabelValues) {
  Registry reg;
  reg.counter("hk_x_total", "Back\\slash and\nnew line.", {{"a", "q\"uote\\ and\nline"}});
  EXPECT_EQ(reg.render(),
            "# HELP hk_x_total Back\\\\slash and\\nnew line.\n"
            "# TYPE hk_x_total counter\n"
            "hk_x_total{a=\"q\\\"uote\\\\ and\\nline\"} 0\n");
}

TEST(Registry, GaugeSetSeriesAreReplacedWhole) {
  Registry reg;
  GaugeSet& expiry = reg.gauge_set("hk_cert_expiry_timestamp_seconds", "Expiry.", "name");
  reg.gauge("hk_after", "After.");
  // No series yet: HELP and TYPE alone, which the text format allows.
  EXPECT_EQ(reg.render(),
            "# HELP hk_cert_expiry_timestamp_seconds Expiry.\n"
            "# TYPE hk_cert_expiry_timestamp_seconds gauge\n"
            "# HELP hk_after After.\n"
            "# TYPE hk_after gauge\n"
            "hk_after 0\n");
  expiry.replace({{"mx.example.org", 1800000000}, {"we\"ird", 5}});
  expiry.replace({{"mx.example.org", 1800000001}, {"b", -1}});
  EXPECT_EQ(reg.render(),
            "# HELP hk_cert_expiry_timestamp_seconds Expiry.\n"
            "# TYPE hk_cert_expiry_timestamp_seconds gauge\n"
            "hk_cert_expiry_timestamp_seconds{name=\"mx.example.org\"} 1800000001\n"
            "hk_cert_expiry_timestamp_seconds{name=\"b\"} -1\n"
            "# HELP hk_after After.\n"
            "# TYPE hk_after gauge\n"
            "hk_after 0\n");
  expiry.replace({{"q\"", 1}});
  EXPECT_NE(reg.render().find("{name=\"q\\\"\"} 1\n"), std::string::npos) << reg.render();
  EXPECT_THROW(reg.gauge_set("hk_cert_expiry_timestamp_seconds", "Expiry.", "name"),
               std::logic_error);
  EXPECT_THROW(reg.gauge("hk_cert_expiry_timestamp_seconds", "Expiry."), std::logic_error);
  EXPECT_THROW(reg.gauge_set("hk_other", "Other.", "__name"), std::logic_error);
  EXPECT_THROW(reg.gauge_set("hk other", "Other.", "name"), std::logic_error);
}

TEST(Registry, HistogramBucketsAreCumulative) {
  Registry reg;
  Histogram& h = reg.histogram("hk_duration_seconds", "How long.", {0.5, 1, 2.5}, {{"via", "mx"}});
  h.observe(0.5);  // le is "less than or equal": this one counts in the 0.5 bucket
  h.observe(0.75);
  h.observe(3.0);
  h.observe(std::chrono::milliseconds(250));
  EXPECT_EQ(reg.render(),
            "# HELP hk_duration_seconds How long.\n"
            "# TYPE hk_duration_seconds histogram\n"
            "hk_duration_seconds_bucket{via=\"mx\",le=\"0.5\"} 2\n"
            "hk_duration_seconds_bucket{via=\"mx\",le=\"1\"} 3\n"
            "hk_duration_seconds_bucket{via=\"mx\",le=\"2.5\"} 3\n"
            "hk_duration_seconds_bucket{via=\"mx\",le=\"+Inf\"} 4\n"
            "hk_duration_seconds_sum{via=\"mx\"} 4.5\n"
            "hk_duration_seconds_count{via=\"mx\"} 4\n");
}

TEST(Registry, HistogramWithoutLabelsAndOddValues) {
  Registry reg;
  Histogram& h = reg.histogram("hk_delay_seconds", "Delay.", {0.005, 86400});
  h.observe(std::numeric_limits<double>::quiet_NaN());  // ignored
  h.observe(std::chrono::seconds(-3));                  // a clock stepped back: zero
  h.observe(1e9);
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 1, 2}));
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum, 1e9);
  std::string text = reg.render();
  EXPECT_NE(text.find("hk_delay_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hk_delay_seconds_bucket{le=\"86400\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hk_delay_seconds_sum 1e+09\n"), std::string::npos) << text;
}

TEST(Registry, RefusesProgrammersErrors) {
  Registry reg;
  reg.counter("hk_a_total", "A.", {{"x", "1"}});
  struct Case {
    const char* what;
    std::function<void()> f;
  };
  std::vector<Case> cases = {
      {"empty name", [&] { reg.counter("", "A."); }},
      {"name with a dash", [&] { reg.counter("hk-a", "A."); }},
      {"name starting with a digit", [&] { reg.counter("1hk", "A."); }},
      {"label with a colon",
       [&] {
         reg.counter("hk_b_total", "B.", {{"a:b", "1"}});
       }},
      {"reserved label",
       [&] {
         reg.counter("hk_b_total", "B.", {{"__x", "1"}});
       }},
      {"label twice",
       [&] {
         reg.counter("hk_b_total", "B.", {{"x", "1"}, {"x", "2"}});
       }},
      {"series twice",
       [&] {
         reg.counter("hk_a_total", "A.", {{"x", "1"}});
       }},
      {"other help",
       [&] {
         reg.counter("hk_a_total", "Other.", {{"x", "2"}});
       }},
      {"other type",
       [&] {
         reg.gauge("hk_a_total", "A.", {{"x", "2"}});
       }},
      {"le on a histogram",
       [&] {
         reg.histogram("hk_h", "H.", {1}, {{"le", "1"}});
       }},
      {"no bounds", [&] { reg.histogram("hk_h", "H.", {}); }},
      {"bounds not increasing",
       [&] {
         reg.histogram("hk_h", "H.", {1, 1});
       }},
      {"infinite bound",
       [&] {
         reg.histogram("hk_h", "H.", {1, std::numeric_limits<double>::infinity()});
       }},
  };
  for (const Case& c : cases) {
    EXPECT_THROW(c.f(), std::logic_error) << c.what;
  }
  reg.histogram("hk_h", "H.", {1, 2});
  EXPECT_THROW(reg.histogram("hk_h", "H.", {1, 3}, {{"y", "1"}}), std::logic_error);
  EXPECT_NO_THROW(reg.histogram("hk_h", "H.", {1, 2}, {{"y", "1"}}));
  // The failed registrations left nothing behind.
  EXPECT_EQ(reg.render().find("hk_b_total"), std::string::npos);
}

TEST(Registry, UpdatesFromManyThreadsAreAllCounted) {
  Registry reg;
  Counter& c = reg.counter("hk_c_total", "C.");
  Histogram& h = reg.histogram("hk_h_seconds", "H.", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  }
  // Rendering while they run must not block them or tear a value.
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(reg.render().empty());
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.snapshot().count, 40000u);
  EXPECT_EQ(h.snapshot().sum, 20000.0);
}

}  // namespace
}  // namespace hk::metrics
