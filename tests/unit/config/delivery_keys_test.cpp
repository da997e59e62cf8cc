// The [delivery] keys of how we look to a receiver and of traffic shaping: defaults, values read,
// errors, and print-config's round trip.
#include <gtest/gtest.h>

#include "lib/config/config.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

using test::error_of;
using test::kFile;
using test::parse;
using namespace std::chrono_literals;

TEST(DeliveryKeys, Defaults) {
  const Config c = parse("hostname = 'mx.example.test'");
  EXPECT_EQ(c.delivery.ip_version, IpVersion::Any);
  EXPECT_EQ(c.delivery.prefer, IpPrefer::V4);
  EXPECT_EQ(c.delivery.source_ipv4, "");
  EXPECT_EQ(c.delivery.source_ipv6, "");
  EXPECT_EQ(c.delivery.helo_name, "");
  EXPECT_EQ(c.delivery.max_connections_per_host, 5u);
  EXPECT_EQ(c.delivery.max_connections_per_domain, 10u);
  EXPECT_EQ(c.delivery.max_messages_per_connection, 100u);
  EXPECT_EQ(c.delivery.rate_per_domain, 0u);
  EXPECT_EQ(c.delivery.backoff_min, 60s);
  EXPECT_EQ(c.delivery.backoff_max, 3600s);
}

TEST(DeliveryKeys, ValuesAreReadAndPrintedBack) {
  const Config c = parse(
      "hostname = 'mx.example.test'\n[delivery]\nip_version = 'ipv6'\nprefer = 'ipv6'\n"
      "source_ipv4 = '192.0.2.7'\nsource_ipv6 = '2001:DB8::7'\nhelo_name = 'Out.Example.Test'\n"
      "max_connections_per_host = 2\nmax_connections_per_domain = 3\n"
      "max_messages_per_connection = 20\nrate_per_domain = 60\nbackoff_min = '10s'\n"
      "backoff_max = '5m'\n");
  EXPECT_EQ(c.delivery.ip_version, IpVersion::V6);
  EXPECT_EQ(c.delivery.prefer, IpPrefer::V6);
  EXPECT_EQ(c.delivery.source_ipv4, "192.0.2.7");
  EXPECT_EQ(c.delivery.source_ipv6, "2001:db8::7");  // normal form
  EXPECT_EQ(c.delivery.helo_name, "out.example.test");
  EXPECT_EQ(c.delivery.max_connections_per_host, 2u);
  EXPECT_EQ(c.delivery.max_connections_per_domain, 3u);
  EXPECT_EQ(c.delivery.max_messages_per_connection, 20u);
  EXPECT_EQ(c.delivery.rate_per_domain, 60u);
  EXPECT_EQ(c.delivery.backoff_min, 10s);
  EXPECT_EQ(c.delivery.backoff_max, 300s);
  EXPECT_EQ(parse(to_toml(c)), parse(to_toml(parse(to_toml(c)))));
  Config back = parse(to_toml(c));
  back.file = c.file;
  EXPECT_EQ(back.delivery, c.delivery);
}

TEST(DeliveryKeys, Errors) {
  const std::string f = kFile.string();
  const struct {
    const char* text;
    std::string error;
  } cases[] = {
      {"[delivery]\nip_version = 'v4'",
       f + ":2: delivery.ip_version: must be \"any\", \"ipv4\" or \"ipv6\", got \"v4\""},
      {"[delivery]\nprefer = 'any'",
       f + ":2: delivery.prefer: must be \"ipv4\" or \"ipv6\", got \"any\""},
      {"[delivery]\nsource_ipv4 = '::1'",
       f + ":2: delivery.source_ipv4: must be an IPv4 address, got \"::1\""},
      {"[delivery]\nsource_ipv6 = '127.0.0.7'",
       f + ":2: delivery.source_ipv6: must be an IPv6 address, got \"127.0.0.7\""},
      {"[delivery]\nsource_ipv4 = 'mail.example.test'",
       f + ":2: delivery.source_ipv4: must be an IPv4 address, got \"mail.example.test\""},
      {"[delivery]\nhelo_name = 'no_such name'",
       f + ":2: delivery.helo_name: must be a fully qualified domain name such as "
           "mail.example.com, got \"no_such name\""},
      {"[delivery]\nmax_connections_per_domain = 0",
       f + ":2: delivery.max_connections_per_domain: must be between 1 and 1000, got 0"},
      {"[delivery]\nbackoff_min = '10m'\nbackoff_max = '1m'",
       f + ":3: delivery.backoff_max: must not be below delivery.backoff_min"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of(c.text), c.error) << c.text;
  }
}

}  // namespace
}  // namespace hk::config
