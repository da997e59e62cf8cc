// host_addresses() against a live dnsmasq on loopback: the families asked for, their order, IP
// literals, and the reason given when a host has no usable address.
#include "lib/dns/host_addresses.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "lib/dns/resolver.hpp"
#include "tests/support/dns_servers.hpp"
#include "tests/support/run.hpp"
#include "tests/unit/dns/options.hpp"

namespace hk::dns {
namespace {

namespace asio = boost::asio;

class HostAddressesTest : public ::testing::Test {
 protected:
  HostAddresses find(const std::string& host, AddressChoice choice) {
    asio::io_context io;
    Resolver resolver(io.get_executor(), test::options(dnsmasq_.server()));
    auto out = hk::test::run(io, host_addresses(resolver, host, choice));
    EXPECT_TRUE(out.has_value()) << host;
    return out.value_or(HostAddresses{});
  }
  static std::vector<std::string> texts(const HostAddresses& h) {
    std::vector<std::string> out;
    for (const auto& a : h.addrs) {
      out.push_back(a.to_string());
    }
    return out;
  }

  test::Dnsmasq dnsmasq_{
      {"--host-record=both.test,192.0.2.1,2001:db8::1", "--host-record=four.test,192.0.2.2"}};
};

TEST_F(HostAddressesTest, FamiliesAndOrder) {
  ASSERT_NE(dnsmasq_.port(), 0);
  using V = std::vector<std::string>;
  EXPECT_EQ(texts(find("both.test", {})), (V{"192.0.2.1", "2001:db8::1"}));
  EXPECT_EQ(texts(find("both.test", {true, true, false})), (V{"2001:db8::1", "192.0.2.1"}));
  EXPECT_EQ(texts(find("both.test", {false, true, true})), (V{"2001:db8::1"}));
  EXPECT_EQ(texts(find("both.test", {true, false, true})), (V{"192.0.2.1"}));
  EXPECT_EQ(texts(find("four.test", {})), (V{"192.0.2.2"}));
  EXPECT_TRUE(find("four.test", {}).error.empty());
}

TEST_F(HostAddressesTest, WhyNone) {
  ASSERT_NE(dnsmasq_.port(), 0);
  const HostAddresses none = find("four.test", {false, true, true});
  EXPECT_TRUE(none.addrs.empty());
  EXPECT_EQ(none.error, "AAAA: no record of that type (NODATA)");
  EXPECT_EQ(find("nowhere.test", {}).error,
            "AAAA: domain does not exist (NXDOMAIN), A: domain does not exist (NXDOMAIN)");
}

TEST_F(HostAddressesTest, Literals) {
  using V = std::vector<std::string>;
  EXPECT_EQ(texts(find("192.0.2.9", {})), (V{"192.0.2.9"}));
  EXPECT_EQ(texts(find("2001:db8::9", {})), (V{"2001:db8::9"}));
  const HostAddresses ruled_out = find("2001:db8::9", {true, false, true});
  EXPECT_TRUE(ruled_out.addrs.empty());
  EXPECT_EQ(ruled_out.error, "an IPv6 address, but [delivery] ip_version rules that family out");
}

}  // namespace
}  // namespace hk::dns
