// Tests for the daemon's metric catalogue: every series an operator's dashboards already use is
// on the page from the start, each handle updates the series its name says, and promtool accepts
// the whole page.
#include "daemon/server/server_metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/server/session.hpp"
#include "lib/spf/check_host.hpp"
#include "tests/support/promtool.hpp"

namespace hk::server {
namespace {

struct Catalogue {
  metrics::Registry reg;
  queue::DeliveryMetrics delivery = queue::register_delivery_metrics(reg);
  ServerMetrics server = register_server_metrics(reg, delivery);
};

// The value of one series on the page ("name{labels}"), or -1 when it is not there once.
long long value_of(const std::string& page, const std::string& series) {
  std::string key = "\n" + series + " ";
  size_t at = page.find(key);
  if (at == std::string::npos || page.find(key, at + 1) != std::string::npos) {
    return -1;
  }
  return std::stoll(page.substr(at + key.size()));
}

TEST(ServerMetrics, EveryExistingSeriesIsThereFromTheStart) {
  Catalogue c;
  std::string page = c.reg.render();
  // The names and labels of the metrics before the typed registry: dashboards depend on them.
  const std::vector<std::string> existing = {
      "hikyaku_connections_total{port=\"smtp\"}",
      "hikyaku_connections_total{port=\"submission\"}",
      "hikyaku_connections_total{port=\"submission_tls\"}",
      "hikyaku_rejected_total{reason=\"auth-required\"}",
      "hikyaku_rejected_total{reason=\"bare-line-ending\"}",
      "hikyaku_rejected_total{reason=\"connections\"}",
      "hikyaku_rejected_total{reason=\"connections-per-ip\"}",
      "hikyaku_rejected_total{reason=\"from-header\"}",
      "hikyaku_rejected_total{reason=\"loop\"}",
      "hikyaku_rejected_total{reason=\"proxy-header\"}",
      "hikyaku_rejected_total{reason=\"recipients\"}",
      "hikyaku_rejected_total{reason=\"relay\"}",
      "hikyaku_rejected_total{reason=\"sender\"}",
      "hikyaku_rejected_total{reason=\"size\"}",
      "hikyaku_rejected_total{reason=\"spf\"}",
      "hikyaku_rejected_total{reason=\"unknown-user\"}",
      "hikyaku_session_timeouts_total",
      "hikyaku_session_errors_total",
      "hikyaku_tls_sessions_total",
      "hikyaku_tls_handshake_failures_total",
      "hikyaku_auth_total{result=\"ok\"}",
      "hikyaku_auth_total{result=\"failed\"}",
      "hikyaku_spf_total{result=\"none\"}",
      "hikyaku_spf_total{result=\"neutral\"}",
      "hikyaku_spf_total{result=\"pass\"}",
      "hikyaku_spf_total{result=\"fail\"}",
      "hikyaku_spf_total{result=\"softfail\"}",
      "hikyaku_spf_total{result=\"temperror\"}",
      "hikyaku_spf_total{result=\"permerror\"}",
      "hikyaku_dkim_total{result=\"signed\"}",
      "hikyaku_dkim_total{result=\"error\"}",
      "hikyaku_accepted_total",
      "hikyaku_accepted_bytes_total",
      "hikyaku_queue_write_errors_total",
      "hikyaku_delivered_total{via=\"maildir\"}",
      "hikyaku_reload_errors_total{what=\"certs\"}",
      "hikyaku_reload_errors_total{what=\"dkim\"}",
      "hikyaku_reload_errors_total{what=\"domains\"}",
      "hikyaku_reload_errors_total{what=\"config\"}",
      "hikyaku_connections",
      "hikyaku_queue_size",
  };
  for (const std::string& s : existing) {
    EXPECT_EQ(value_of(page, s), 0) << s;
  }
  // Counters keep their type by their _total suffix, gauges theirs.
  EXPECT_NE(page.find("# TYPE hikyaku_rejected_total counter\n"), std::string::npos);
  EXPECT_NE(page.find("# TYPE hikyaku_connections gauge\n"), std::string::npos);
  EXPECT_NE(page.find("# TYPE hikyaku_queue_size gauge\n"), std::string::npos);
}

TEST(ServerMetrics, HandlesUpdateTheirOwnSeries) {
  Catalogue c;
  c.server.connections_on(Port::SubmissionTls).inc();
  c.server.spf(spf::Result::SoftFail).inc(2);
  c.server.spf(spf::Result::PermError).inc(3);
  c.server.delivered_maildir.inc(4);
  c.delivery.relay.delivered.inc(5);
  c.server.queue_size.set(6);
  std::string page = c.reg.render();
  EXPECT_EQ(value_of(page, "hikyaku_connections_total{port=\"submission_tls\"}"), 1);
  EXPECT_EQ(value_of(page, "hikyaku_connections_total{port=\"smtp\"}"), 0);
  EXPECT_EQ(value_of(page, "hikyaku_spf_total{result=\"softfail\"}"), 2);
  EXPECT_EQ(value_of(page, "hikyaku_spf_total{result=\"permerror\"}"), 3);
  // The session's Maildir deliveries and the courier's are one series.
  EXPECT_EQ(value_of(page, "hikyaku_delivered_total{via=\"maildir\"}"), 4);
  EXPECT_EQ(&c.server.delivered_maildir, &c.delivery.maildir.delivered);
  EXPECT_EQ(value_of(page, "hikyaku_delivered_total{via=\"relay\"}"), 5);
  EXPECT_EQ(value_of(page, "hikyaku_queue_size"), 6);
}

TEST(ServerMetrics, PromtoolAcceptsThePage) {
  if (!hk::test::promtool_available()) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  Catalogue c;
  c.delivery.mx.duration.observe(0.7);
  c.delivery.delay.observe(3600.0);
  hk::test::PromtoolResult r = hk::test::promtool_check(c.reg.render());
  EXPECT_TRUE(r.ok) << r.output;
}

}  // namespace
}  // namespace hk::server
