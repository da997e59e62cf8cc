// The operator's series: reloads by what and result, the certificate expiry set, build info and
// DSNs, all on the page from the start, and promtool accepts the whole page with them.
#include "daemon/server/operator_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

#include "daemon/queue/delivery_metrics.hpp"
#include "daemon/server/server_metrics.hpp"
#include "tests/support/promtool.hpp"

namespace hk::server {
namespace {

bool has_line(const std::string& page, const std::string& line) {
  return page.find("\n" + line + "\n") != std::string::npos;
}

TEST(OperatorMetrics, RegisteredAtZeroAndCounted) {
  metrics::Registry reg;
  OperatorMetrics m = register_operator_metrics(reg);
  std::string page = reg.render();
  for (const char* what : {"certs", "dkim", "domains", "config", "srs"}) {
    for (const char* result : {"ok", "kept-old"}) {
      std::string series =
          std::string("hikyaku_reloads_total{what=\"") + what + "\",result=\"" + result + "\"} 0";
      EXPECT_TRUE(has_line(page, series)) << series;
    }
  }
  EXPECT_TRUE(has_line(page, "hikyaku_build_info{version=\"" HK_VERSION "\"} 1"));
  EXPECT_TRUE(has_line(page, "hikyaku_dsn_sent_total{kind=\"failure\"} 0"));
  EXPECT_TRUE(has_line(page, "hikyaku_dsn_sent_total{kind=\"delay\"} 0"));
  EXPECT_TRUE(has_line(page, "hikyaku_queue_oldest_message_age_seconds 0"));

  m.reload(ReloadWhat::Dkim, false);
  m.reload(ReloadWhat::Dkim, true);
  m.reload(ReloadWhat::Dkim, true);
  m.reload(ReloadWhat::Config, false);
  m.cert_expiry.replace({{"mx.example.org", 1800000000}});
  page = reg.render();
  EXPECT_TRUE(has_line(page, "hikyaku_reloads_total{what=\"dkim\",result=\"ok\"} 2"));
  EXPECT_TRUE(has_line(page, "hikyaku_reloads_total{what=\"dkim\",result=\"kept-old\"} 1"));
  EXPECT_TRUE(has_line(page, "hikyaku_reloads_total{what=\"config\",result=\"kept-old\"} 1"));
  EXPECT_TRUE(has_line(page, "hikyaku_reloads_total{what=\"certs\",result=\"ok\"} 0"));
  EXPECT_TRUE(has_line(
      page, "hikyaku_certificate_expiry_timestamp_seconds{name=\"mx.example.org\"} 1800000000"));
}

TEST(OperatorMetrics, PromtoolAcceptsTheDaemonsWholePage) {
  if (!hk::test::promtool_available()) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  // Registered in the daemon's order (server.hpp), with the sets filled and left empty.
  for (bool filled : {true, false}) {
    metrics::Registry reg;
    queue::DeliveryMetrics delivery = queue::register_delivery_metrics(reg);
    ServerMetrics server = register_server_metrics(reg, delivery);
    OperatorMetrics ops = register_operator_metrics(reg);
    if (filled) {
      ops.cert_expiry.replace({{"mx.example.org", 1800000000}, {"old.example.org", 1706745600}});
      delivery.mx_remote.transaction(queue::TlsLevel::MtaSts);
      server.accepted.inc();
    }
    hk::test::PromtoolResult r = hk::test::promtool_check(reg.render());
    EXPECT_TRUE(r.ok) << r.output;
  }
}

}  // namespace
}  // namespace hk::server
