// Tests for configuration scalar values: sizes, durations, endpoints, CIDR, names, ${ENV}.
#include "lib/config/values.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>

namespace hk::config {
namespace {

using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

// Runs f and returns the invalid_argument message, or "no error".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseSize, Good) {
  const struct {
    const char* text;
    uint64_t bytes;
  } cases[] = {
      {"0", 0},
      {"1024", 1024},
      {"100B", 100},
      {"512KiB", 512 * 1024},
      {"50MiB", 50ULL << 20},
      {"1GiB", 1ULL << 30},
      {"2TiB", 2ULL << 40},
      {"1KB", 1000},
      {"10MB", 10'000'000},
      {"3GB", 3'000'000'000ULL},
      {"50 MiB", 50ULL << 20},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_size(c.text), c.bytes) << c.text;
  }
}

TEST(ParseSize, Bad) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"",
       "invalid size \"\": expected a number of bytes or a number and a unit, such as \"50MiB\""},
      {"MiB",
       "invalid size \"MiB\": expected a number of bytes or a number and a unit, such as "
       "\"50MiB\""},
      {"-5",
       "invalid size \"-5\": expected a number of bytes or a number and a unit, such as "
       "\"50MiB\""},
      {"50XB",
       "invalid size \"50XB\": unknown unit \"XB\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"},
      {"50mib",
       "invalid size \"50mib\": unknown unit \"mib\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or "
       "TiB)"},
      {"1.5MiB",
       "invalid size \"1.5MiB\": unknown unit \".5MiB\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or "
       "TiB)"},
      {"18446744073709551616", "invalid size \"18446744073709551616\": too large"},
      {"17000000TiB", "invalid size \"17000000TiB\": too large"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { parse_size(c.text); }), c.error) << c.text;
  }
}

TEST(FormatSize, RoundTrips) {
  const struct {
    uint64_t bytes;
    const char* text;
  } cases[] = {
      {0, "0"},
      {1000, "1KB"},
      {1024, "1KiB"},
      {1025, "1025"},
      {50ULL << 20, "50MiB"},
      {10'000'000, "10MB"},
      {1ULL << 30, "1GiB"},
      {1536, "1536"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_size(c.bytes), c.text) << c.bytes;
    EXPECT_EQ(parse_size(format_size(c.bytes)), c.bytes) << c.bytes;
  }
}

TEST(ParseDuration, Good) {
  const struct {
    const char* text;
    std::chrono::seconds d;
  } cases[] = {
      {"5d", 5 * 24h},  {"1h", 1h},     {"30m", 30min}, {"20s", 20s},
      {"1h30m", 90min}, {"300", 300s},  {"0s", 0s},     {"1d2h3m4s", 93784s},
      {"0", 0s},        {"2000ms", 2s}, {"90m", 90min},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_duration(c.text), c.d) << c.text;
  }
}

TEST(ParseDuration, Bad) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"", "invalid duration \"\": empty"},
      {"5x", "invalid duration \"5x\": unknown unit \"x\" (use d, h, m, s or ms)"},
      {"5 m", "invalid duration \"5 m\": missing unit after 5 (use d, h, m, s or ms)"},
      {"h", "invalid duration \"h\": expected a number and a unit, such as \"30m\" or \"1h30m\""},
      {"30m1h",
       "invalid duration \"30m1h\": units must go from largest to smallest, each at most "
       "once"},
      {"1m1m",
       "invalid duration \"1m1m\": units must go from largest to smallest, each at most "
       "once"},
      {"1h30", "invalid duration \"1h30\": missing unit after 30 (use d, h, m, s or ms)"},
      {"-5s",
       "invalid duration \"-5s\": expected a number and a unit, such as \"30m\" or "
       "\"1h30m\""},
      {"500ms", "invalid duration \"500ms\": must be a whole number of seconds"},
      {"99999999999999999999d", "invalid duration \"99999999999999999999d\": too large"},
      {"40000d", "invalid duration \"40000d\": too large"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { parse_duration(c.text); }), c.error) << c.text;
  }
}

TEST(ParseDurationMs, AcceptsMilliseconds) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500ms);
  EXPECT_EQ(parse_duration_ms("1s500ms"), 1500ms);
  EXPECT_EQ(parse_duration_ms("5s"), 5000ms);
  EXPECT_EQ(parse_duration_ms("2"), 2000ms);
  EXPECT_EQ(error_of([] { parse_duration_ms("500ms1s"); }),
            "invalid duration \"500ms1s\": units must go from largest to smallest, each at most "
            "once");
}

TEST(FormatDuration, RoundTrips) {
  const struct {
    std::chrono::milliseconds d;
    const char* text;
  } cases[] = {
      {0ms, "0s"},      {5 * 24h, "5d"},     {90min, "1h30m"}, {93784s, "1d2h3m4s"},
      {500ms, "500ms"}, {1500ms, "1s500ms"}, {4h, "4h"},       {59s, "59s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_duration(c.d), c.text);
    EXPECT_EQ(parse_duration_ms(format_duration(c.d)), c.d) << c.text;
  }
  EXPECT_EQ(format_duration(std::chrono::seconds(300)), "5m");
}

TEST(ParseEndpoint, Good) {
  const struct {
    const char* text;
    std::optional<uint16_t> default_port;
    const char* host;
    uint16_t port;
    const char* str;
  } cases[] = {
      {"0.0.0.0:25", {}, "0.0.0.0", 25, "0.0.0.0:25"},
      {"[::]:25", {}, "::", 25, "[::]:25"},
      {"[::1]:2525", {}, "::1", 2525, "[::1]:2525"},
      {"[0:0:0:0:0:0:0:1]:2525", {}, "::1", 2525, "[::1]:2525"},
      {"127.0.0.1:0", {}, "127.0.0.1", 0, "127.0.0.1:0"},
      {"127.0.0.1:65535", {}, "127.0.0.1", 65535, "127.0.0.1:65535"},
      {"127.0.0.1", 53, "127.0.0.1", 53, "127.0.0.1:53"},
      {"127.0.0.1:5353", 53, "127.0.0.1", 5353, "127.0.0.1:5353"},
      {"[::1]", 53, "::1", 53, "[::1]:53"},
      {"::1", 53, "::1", 53, "[::1]:53"},
      {"2001:db8::5", 53, "2001:db8::5", 53, "[2001:db8::5]:53"},
  };
  for (const auto& c : cases) {
    const Endpoint e = parse_endpoint(c.text, c.default_port);
    EXPECT_EQ(e.host, c.host) << c.text;
    EXPECT_EQ(e.port, c.port) << c.text;
    EXPECT_EQ(e.str(), c.str) << c.text;
  }
}

TEST(ParseEndpoint, Bad) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"0.0.0.0",
       "invalid endpoint \"0.0.0.0\": missing port (write address:port, or "
       "[address]:port for IPv6)"},
      {"[::1]",
       "invalid endpoint \"[::1]\": missing port (write address:port, or [address]:port "
       "for IPv6)"},
      {"localhost:25", "invalid endpoint \"localhost:25\": not an IP address"},
      {"1.2.3.4:65536",
       "invalid endpoint \"1.2.3.4:65536\": port must be a number from 0 to 65535"},
      {"1.2.3.4:", "invalid endpoint \"1.2.3.4:\": port must be a number from 0 to 65535"},
      {"1.2.3.4:x", "invalid endpoint \"1.2.3.4:x\": port must be a number from 0 to 65535"},
      {"[::1:25", "invalid endpoint \"[::1:25\": missing ']'"},
      {"[::1]25", "invalid endpoint \"[::1]25\": expected ':' and a port after ']'"},
      {"[1.2.3.4]:25", "invalid endpoint \"[1.2.3.4]:25\": not an IPv6 address inside [...]"},
      {"fe80:::1:25",
       "invalid endpoint \"fe80:::1:25\": not an IP address (an IPv6 address with "
       "a port is written [::1]:25)"},
      {"", "invalid endpoint \"\": not an IP address"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { parse_endpoint(c.text); }), c.error) << c.text;
  }
}

TEST(ParseCidr, Good) {
  const struct {
    const char* text;
    const char* str;
  } cases[] = {
      {"127.0.0.0/8", "127.0.0.0/8"},       {"::1/128", "::1/128"},
      {"10.1.2.3", "10.1.2.3/32"},          {"2001:db8::/32", "2001:db8::/32"},
      {"0.0.0.0/0", "0.0.0.0/0"},           {"::/0", "::/0"},
      {"192.168.0.0/23", "192.168.0.0/23"}, {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
      {"::ffff:192.0.2.7", "192.0.2.7/32"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_cidr(c.text).str(), c.str) << c.text;
  }
}

TEST(ParseCidr, Bad) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"10.0.0.1/8",
       "invalid network \"10.0.0.1/8\": host bits are set (did you mean 10.0.0.0/8?)"},
      {"192.168.1.0/16",
       "invalid network \"192.168.1.0/16\": host bits are set (did you mean 192.168.0.0/16?)"},
      {"192.168.1.0/23",
       "invalid network \"192.168.1.0/23\": host bits are set (did you mean 192.168.0.0/23?)"},
      {"10.0.0.0/33",
       "invalid network \"10.0.0.0/33\": prefix length must be a number from 0 to 32"},
      {"::/129", "invalid network \"::/129\": prefix length must be a number from 0 to 128"},
      {"10.0.0.0/", "invalid network \"10.0.0.0/\": prefix length must be a number from 0 to 32"},
      {"10.0.0.0/8x",
       "invalid network \"10.0.0.0/8x\": prefix length must be a number from 0 to 32"},
      {"10.0.0/8", "invalid network \"10.0.0/8\": not an IP address"},
      {"example.com/8", "invalid network \"example.com/8\": not an IP address"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of([&] { parse_cidr(c.text); }), c.error) << c.text;
  }
}

TEST(Cidr, Contains) {
  const struct {
    const char* net;
    const char* addr;
    bool inside;
  } cases[] = {
      {"127.0.0.0/8", "127.0.0.1", true},
      {"127.0.0.0/8", "127.255.255.255", true},
      {"127.0.0.0/8", "128.0.0.1", false},
      {"127.0.0.0/8", "::ffff:127.0.0.1", true},  // an IPv4 client on a dual-stack socket
      {"127.0.0.0/8", "::ffff:10.0.0.1", false},
      {"127.0.0.0/8", "::1", false},
      {"::1/128", "::1", true},
      {"::1/128", "127.0.0.1", false},
      {"::1/128", "::2", false},
      {"192.168.0.0/23", "192.168.1.200", true},
      {"192.168.0.0/23", "192.168.2.1", false},
      {"10.0.0.0/9", "10.127.0.1", true},
      {"10.0.0.0/9", "10.128.0.1", false},
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "::ffff:203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"::/0", "2001:db8::1", true},
      {"::ffff:10.0.0.0/104", "10.9.8.7", true},
      {"::ffff:10.0.0.0/104", "::ffff:10.9.8.7", true},
      {"192.0.2.7", "192.0.2.7", true},
      {"192.0.2.7", "192.0.2.8", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_cidr(c.net).contains(ip::make_address(c.addr)), c.inside)
        << c.net << " " << c.addr;
  }
}

TEST(IsDomainName, Table) {
  const struct {
    const char* name;
    bool valid;
  } cases[] = {
      {"mx.example.com", true},
      {"localhost", true},
      {"vm", true},
      {"a-b.example", true},
      {"xn--bcher-kva.example", true},
      {"1mx.example.com", true},
      {"", false},
      {"mx.example.com.", false},
      {".example.com", false},
      {"mx..example.com", false},
      {"-mx.example.com", false},
      {"mx-.example.com", false},
      {"mx_1.example.com", false},
      {"mx example.com", false},
      {"1.2.3.4", false},
      {"example.123", false},
      {"bücher.example", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_domain_name(c.name), c.valid) << c.name;
  }
  EXPECT_TRUE(is_domain_name(std::string(63, 'a') + ".example"));
  EXPECT_FALSE(is_domain_name(std::string(64, 'a') + ".example"));
  std::string long_name;
  while (long_name.size() < 251) {
    long_name += "abcdefghi.";
  }
  EXPECT_FALSE(is_domain_name(long_name + "com"));  // 253 octets at most
}

TEST(ExpandEnv, Table) {
  ::setenv("HK_TEST_A", "alpha", 1);
  ::setenv("HK_TEST_B", "b$x", 1);
  ::setenv("HK_TEST_EMPTY", "", 1);
  ::unsetenv("HK_TEST_UNSET");
  const struct {
    const char* text;
    const char* result;  // or the error
  } cases[] = {
      {"plain", "plain"},
      {"${HK_TEST_A}", "alpha"},
      {"x${HK_TEST_A}y${HK_TEST_A}", "xalphayalpha"},
      {"${HK_TEST_B}", "b$x"},  // values are not expanded again
      {"${HK_TEST_EMPTY}", ""},
      {"pa$$word", "pa$word"},
      {"$$${HK_TEST_A}", "$alpha"},
      {"$${HK_TEST_A}", "${HK_TEST_A}"},
      {"${HK_TEST_UNSET}", "environment variable HK_TEST_UNSET is not set"},
      {"pa$word", "a '$' must start ${NAME} or be doubled as $$ for a literal '$'"},
      {"end$", "a '$' must start ${NAME} or be doubled as $$ for a literal '$'"},
      {"${HK_TEST_A", "unterminated ${ (write $$ for a literal '$')"},
      {"${}", "invalid environment variable name \"\""},
      {"${1X}", "invalid environment variable name \"1X\""},
      {"${A-B}", "invalid environment variable name \"A-B\""},
  };
  for (const auto& c : cases) {
    std::string got;
    try {
      got = expand_env(c.text);
    } catch (const std::invalid_argument& e) {
      got = e.what();
    }
    EXPECT_EQ(got, c.result) << c.text;
  }
}

}  // namespace
}  // namespace hk::config
