// Tests for reading hikyaku.toml: defaults, every error's file:line:key text, ${ENV}, relays,
// the print-config round trip and the shipped example deploy/hikyaku.toml.
#include "lib/config/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <set>

#include "lib/base/files.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using test::error_of;
using test::kDir;
using test::kFile;
using test::parse;

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  std::string s = buf;
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// What parse_config gives for an empty file.
Config defaults() {
  Config c;
  c.config_dir = kDir;
  c.file = kFile;
  c.hostname = host_name();
  return c;
}

TEST(ParseConfig, EmptyFileGivesDefaults) {
  const Config c = parse("");
  EXPECT_EQ(c, defaults());
  EXPECT_EQ(c.hostname, host_name());
  EXPECT_EQ(c.data_dir, "/var/lib/hikyaku");
  ASSERT_EQ(c.trusted_networks.size(), 2u);
  EXPECT_EQ(c.trusted_networks[0].str(), "127.0.0.0/8");
  EXPECT_EQ(c.trusted_networks[1].str(), "::1/128");
  EXPECT_TRUE(c.trusted_sender_domains.empty());
  EXPECT_FALSE(c.allow_plain_auth_from_trusted);
  EXPECT_TRUE(c.proxy_networks.empty());
  ASSERT_EQ(c.listen.smtp.size(), 2u);
  EXPECT_EQ(c.listen.smtp[0].str(), "0.0.0.0:25");
  EXPECT_EQ(c.listen.smtp[1].str(), "[::]:25");
  EXPECT_EQ(c.listen.submission[1].str(), "[::]:587");
  EXPECT_EQ(c.listen.submission_tls[0].str(), "0.0.0.0:465");
  EXPECT_TRUE(c.listen.metrics.empty());
  EXPECT_EQ(c.limits.max_message_size, 50u * 1024 * 1024);
  EXPECT_EQ(c.limits.max_recipients, 100u);
  EXPECT_EQ(c.limits.max_connections, 1000u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 50u);
  EXPECT_EQ(c.limits.max_auth_failures, 3u);
  EXPECT_EQ(c.limits.max_received_headers, 50);
  EXPECT_EQ(c.limits.command_timeout, 5min);
  EXPECT_EQ(c.limits.data_timeout, 10min);
  EXPECT_EQ(c.limits.connection_timeout, 1h);
  EXPECT_EQ(c.tls.min_version, base::MinTls::V1_2);
  EXPECT_EQ(c.queue.lifetime, 5 * 24h);
  EXPECT_EQ(c.queue.retry, (std::vector<std::chrono::seconds>{5min, 15min, 30min, 1h, 2h, 4h}));
  EXPECT_EQ(c.queue.delay_warning, 4h);
  EXPECT_EQ(c.queue.max_concurrent_deliveries, 50u);
  EXPECT_EQ(c.queue.min_free_space, 200u * 1024 * 1024);
  EXPECT_TRUE(c.dns.servers.empty());
  EXPECT_EQ(c.dns.timeout, 5s);
  EXPECT_EQ(c.dns.attempts, 3);
  EXPECT_FALSE(c.spf.reject_fail);
  EXPECT_TRUE(c.delivery.mta_sts);
  EXPECT_TRUE(c.relays.empty());
  EXPECT_EQ(c.log_level, base::LogLevel::Info);
  EXPECT_EQ(c.certs_dir(), "/etc/hikyaku/certs");
  EXPECT_EQ(c.domains_dir(), "/etc/hikyaku/domains");
  EXPECT_EQ(c.queue_dir(), "/var/lib/hikyaku/queue");
  EXPECT_EQ(c.mail_dir(), "/var/lib/hikyaku/mail");
}

constexpr std::string_view kFull = R"(
hostname = "MX.Example.Test"
data_dir = "data/"
trusted_networks = ["10.0.0.0/8", "::ffff:192.168.0.0/112", "2001:db8::/32"]
trusted_sender_domains = ["App.Example.Test"]
allow_plain_auth_from_trusted = true
log_level = "debug"
[listen]
smtp = ["127.0.0.1:0", "[::1]:0"]
submission = ["127.0.0.1:0"]
submission_tls = []
metrics = ["127.0.0.1:9025"]
[limits]
max_message_size = "10MB"
max_recipients = 5
max_connections = 10
max_connections_per_ip = 2
max_auth_failures = 1
max_received_headers = 30
command_timeout = 30
data_timeout = "1m30s"
connection_timeout = "2h"
[tls]
min_version = "1.3"
[queue]
lifetime = "1d"
retry = ["1s", 2]
delay_warning = "0s"
max_concurrent_deliveries = 4
min_free_space = "0"
[dns]
servers = ["127.0.0.1:5353", "127.0.0.2", "[::1]", "::1"]
timeout = "500ms"
attempts = 1
[spf]
reject_fail = true
[delivery]
mta_sts = false
[[relay]]
host = "SMTP.example.net"
username = "me"
password = "${HK_TEST_RELAY_PASSWORD}"
domains = ["Example.ORG", "example.com"]
[[relay]]
host = "192.0.2.1"
tls = "implicit"
[[relay]]
host = "relay"
tls = "none"
[[relay]]
host = "::1"
port = 2525
tls = "none"
)";

TEST(ParseConfig, EveryKey) {
  ::setenv("HK_TEST_RELAY_PASSWORD", "pa$s \"word\"", 1);
  const Config c = parse(kFull);
  EXPECT_EQ(c.hostname, "mx.example.test");
  EXPECT_EQ(c.data_dir, "/etc/hikyaku/data");
  ASSERT_EQ(c.trusted_networks.size(), 3u);
  EXPECT_EQ(c.trusted_networks[1].str(), "192.168.0.0/16");
  EXPECT_EQ(c.trusted_sender_domains, std::vector<std::string>{"app.example.test"});
  EXPECT_TRUE(c.allow_plain_auth_from_trusted);
  EXPECT_EQ(c.log_level, base::LogLevel::Debug);
  ASSERT_EQ(c.listen.smtp.size(), 2u);  // port 0 twice is no conflict: each gets a free port
  EXPECT_EQ(c.listen.smtp[1].str(), "[::1]:0");
  EXPECT_EQ(c.listen.submission.size(), 1u);
  EXPECT_TRUE(c.listen.submission_tls.empty());
  EXPECT_EQ(c.listen.metrics, (std::vector<Endpoint>{Endpoint{"127.0.0.1", 9025}}));
  EXPECT_EQ(c.limits.max_message_size, 10'000'000u);
  EXPECT_EQ(c.limits.max_recipients, 5u);
  EXPECT_EQ(c.limits.max_connections, 10u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 2u);
  EXPECT_EQ(c.limits.max_auth_failures, 1u);
  EXPECT_EQ(c.limits.max_received_headers, 30);
  EXPECT_EQ(c.limits.command_timeout, 30s);
  EXPECT_EQ(c.limits.data_timeout, 90s);
  EXPECT_EQ(c.limits.connection_timeout, 2h);
  EXPECT_EQ(c.tls.min_version, base::MinTls::V1_3);
  EXPECT_EQ(c.queue.lifetime, 24h);
  EXPECT_EQ(c.queue.retry, (std::vector<std::chrono::seconds>{1s, 2s}));
  EXPECT_EQ(c.queue.delay_warning, 0s);
  EXPECT_EQ(c.queue.max_concurrent_deliveries, 4u);
  EXPECT_EQ(c.queue.min_free_space, 0u);
  ASSERT_EQ(c.dns.servers.size(), 4u);
  EXPECT_EQ(c.dns.servers[0].str(), "127.0.0.1:5353");
  EXPECT_EQ(c.dns.servers[1].str(), "127.0.0.2:53");
  EXPECT_EQ(c.dns.servers[2].str(), "[::1]:53");
  EXPECT_EQ(c.dns.servers[3].str(), "[::1]:53");
  EXPECT_EQ(c.dns.timeout, 500ms);
  EXPECT_EQ(c.dns.attempts, 1);
  EXPECT_TRUE(c.spf.reject_fail);
  EXPECT_FALSE(c.delivery.mta_sts);
  ASSERT_EQ(c.relays.size(), 4u);
  EXPECT_EQ(c.relays[0].host, "smtp.example.net");
  EXPECT_EQ(c.relays[0].port, 587);
  EXPECT_EQ(c.relays[0].tls, RelayTls::StartTls);
  EXPECT_EQ(c.relays[0].username, "me");
  EXPECT_EQ(c.relays[0].password, "pa$s \"word\"");
  EXPECT_EQ(c.relays[0].domains, (std::vector<std::string>{"example.org", "example.com"}));
  EXPECT_EQ(c.relays[1].host, "192.0.2.1");
  EXPECT_EQ(c.relays[1].port, 465);
  EXPECT_EQ(c.relays[1].tls, RelayTls::Implicit);
  EXPECT_TRUE(c.relays[1].username.empty());
  EXPECT_TRUE(c.relays[1].domains.empty());
  EXPECT_EQ(c.relays[2].port, 25);
  EXPECT_EQ(c.relays[2].tls, RelayTls::None);
  EXPECT_EQ(c.relays[3].host, "::1");
  EXPECT_EQ(c.relays[3].port, 2525);
}

TEST(ParseConfig, SmallVariants) {
  ::setenv("HK_TEST_HOST", "mail.example.test", 1);
  EXPECT_EQ(parse("hostname = \"${HK_TEST_HOST}\"").hostname, "mail.example.test");
  EXPECT_EQ(parse("hostname = \"localhost\"").hostname, "localhost");
  EXPECT_EQ(parse("data_dir = \"/srv/mail/\"").data_dir, "/srv/mail");
  EXPECT_EQ(parse("data_dir = \"../var/./x\"").data_dir, "/etc/var/x");
  EXPECT_EQ(parse("[limits]\nmax_message_size = 65536").limits.max_message_size, 65536u);
  EXPECT_EQ(parse("[limits]\nmax_message_size = \"1GiB\"").limits.max_message_size, 1u << 30);
  EXPECT_EQ(parse("[dns]\ntimeout = 2").dns.timeout, 2s);
  EXPECT_EQ(parse("trusted_networks = []").trusted_networks.size(), 0u);
  const Config proxied = parse("proxy_networks = [\"10.0.0.10/32\", \"2001:db8::/64\"]");
  ASSERT_EQ(proxied.proxy_networks.size(), 2u);
  EXPECT_EQ(proxied.proxy_networks[0].str(), "10.0.0.10/32");
  EXPECT_EQ(proxied.proxy_networks[1].str(), "2001:db8::/64");
  EXPECT_EQ(parse("[listen]\nsmtp = []").listen.smtp.size(), 0u);
  // Only the listed keys change; the rest of a table keeps its defaults.
  const Config c = parse("[limits]\nmax_recipients = 7");
  EXPECT_EQ(c.limits.max_recipients, 7u);
  EXPECT_EQ(c.limits.max_connections, 1000u);
  EXPECT_EQ(c.listen, Config::Listen{});
}

TEST(ParseConfig, Errors) {
  ::unsetenv("HK_TEST_UNSET_VAR");
  const std::string f = kFile.string();
  const struct {
    const char* text;
    std::string error;
  } cases[] = {
      // Ranges and types.
      {"hostname = 'mx.example.test'\n[limits]\nmax_recipients = 0",
       f + ":3: limits.max_recipients: must be between 1 and 10000, got 0"},
      {"[limits]\nmax_recipients = '100'",
       f + ":2: limits.max_recipients: must be an integer, not a string"},
      {"[limits]\nmax_recipients = 1.5",
       f + ":2: limits.max_recipients: must be an integer, not a floating-point number"},
      {"[limits]\nmax_connections_per_ip = -1",
       f + ":2: limits.max_connections_per_ip: must be between 1 and 1000000, got -1"},
      {"[limits]\nmax_auth_failures = 101",
       f + ":2: limits.max_auth_failures: must be between 1 and 100, got 101"},
      {"[limits]\nmax_received_headers = 0",
       f + ":2: limits.max_received_headers: must be between 1 and 1000, got 0"},
      {"allow_plain_auth_from_trusted = 'yes'",
       f + ":1: allow_plain_auth_from_trusted: must be true or false, not a string"},
      {"limits = 5", f + ":1: limits: must be a table ([limits]), not an integer"},
      {"trusted_networks = '127.0.0.0/8'",
       f + ":1: trusted_networks: must be an array, not a string"},
      {"trusted_networks = [8]", f + ":1: trusted_networks[0]: must be a string, not an integer"},
      // Unknown keys, at any depth.
      {"\n\n\n\n\n\n[limits]\nmax_recipents = 5", f + ":8: limits.max_recipents: unknown key"},
      {"colour = 'red'", f + ":1: colour: unknown key"},
      {"hostname = 'a.example'\n[foo]\nbar = 1", f + ":2: foo: unknown key"},
      {"[[relay]]\nhost = 'a.example'\nhots = 'b'", f + ":3: relay[0].hots: unknown key"},
      {"[listen]\nsmpt = []", f + ":2: listen.smpt: unknown key"},
      {"[delivery]\nmta_sts = true\nmta_sta = false", f + ":3: delivery.mta_sta: unknown key"},
      {"[delivery]\nmta_sts = 'yes'",
       f + ":2: delivery.mta_sts: must be true or false, not a string"},
      {"delivery = true", f + ":1: delivery: must be a table ([delivery]), not a boolean"},
      // Sizes and durations.
      {"[limits]\nmax_message_size = '50XB'", f + ":2: limits.max_message_size: invalid size "
                                                  "\"50XB\": unknown unit \"XB\" (use B, KB, MB, "
                                                  "GB, TB, KiB, MiB, GiB or TiB)"},
      {"[limits]\nmax_message_size = 1000",
       f + ":2: limits.max_message_size: must be between 64KiB and 2GiB, got 1000"},
      {"[limits]\nmax_message_size = '3GiB'",
       f + ":2: limits.max_message_size: must be between 64KiB and 2GiB, got 3GiB"},
      {"[limits]\nmax_message_size = -1",
       f + ":2: limits.max_message_size: must not be negative, got -1"},
      {"[limits]\nmax_message_size = true",
       f + ":2: limits.max_message_size: must be a size such as \"50MiB\" or an integer number of "
           "bytes, not a boolean"},
      {"[limits]\ncommand_timeout = '0s'",
       f + ":2: limits.command_timeout: must be between 1s and 1d, got 0s"},
      {"[limits]\ndata_timeout = 100000",
       f + ":2: limits.data_timeout: must be between 1s and 1d, got 100000s"},
      {"[limits]\ncommand_timeout = '500ms'",
       f + ":2: limits.command_timeout: invalid duration \"500ms\": must be a whole number of "
           "seconds"},
      {"[queue]\nlifetime = '5x'", f + ":2: queue.lifetime: invalid duration \"5x\": unknown unit "
                                       "\"x\" (use d, h, m, s or ms)"},
      {"[queue]\nretry = ['5m',\n '0s']",
       f + ":3: queue.retry[1]: must be between 1s and 1d, got 0s"},
      {"[queue]\nretry = []", f + ":2: queue.retry: must list at least one interval"},
      {"[queue]\nmax_concurrent_deliveries = 0",
       f + ":2: queue.max_concurrent_deliveries: must be between 1 and 10000, got 0"},
      // Networks and endpoints.
      {"trusted_networks = ['127.0.0.0/8',\n  '10.0.0.1/8']",
       f + ":2: trusted_networks[1]: invalid network \"10.0.0.1/8\": host bits are set (did you "
           "mean "
           "10.0.0.0/8?)"},
      {"[listen]\nsmtp = ['0.0.0.0']",
       f + ":2: listen.smtp[0]: invalid endpoint \"0.0.0.0\": missing port (write address:port, or "
           "[address]:port for IPv6)"},
      {"[listen]\nmetrics = ['[::1]:99999']",
       f + ":2: listen.metrics[0]: invalid endpoint \"[::1]:99999\": port must be a number from 0 "
           "to 65535"},
      {"[listen]\nsmtp = ['0.0.0.0:25']\nsubmission = ['0.0.0.0:25']",
       f + ":3: listen.submission[0]: duplicate endpoint 0.0.0.0:25, also in listen.smtp[0]"},
      {"[listen]\nsmtp = ['[::]:25', '[0::0]:25']",
       f + ":2: listen.smtp[1]: duplicate endpoint [::]:25, also in listen.smtp[0]"},
      {"[dns]\nservers = ['127.0.0.1:0']",
       f + ":2: dns.servers[0]: port must be between 1 and 65535"},
      {"[dns]\nservers = ['ns.example.com']",
       f + ":2: dns.servers[0]: invalid endpoint \"ns.example.com\": not an IP address"},
      {"[dns]\ntimeout = '0ms'", f + ":2: dns.timeout: must be between 1ms and 1m, got 0s"},
      {"[dns]\ntimeout = '2m'", f + ":2: dns.timeout: must be between 1ms and 1m, got 2m"},
      {"[dns]\nattempts = 0", f + ":2: dns.attempts: must be between 1 and 10, got 0"},
      // Names and enumerations.
      {"hostname = 'mx_1.example.com'",
       f + ":1: hostname: must be a fully qualified domain name such as mx.example.com, got "
           "\"mx_1.example.com\""},
      {"hostname = 'mx'", f + ":1: hostname: must be a fully qualified domain name such as "
                              "mx.example.com, got \"mx\""},
      {"hostname = '192.0.2.1'",
       f + ":1: hostname: must be a fully qualified domain name such as mx.example.com, got "
           "\"192.0.2.1\""},
      {"trusted_sender_domains = ['-bad.example']",
       f + ":1: trusted_sender_domains[0]: not a valid domain name: \"-bad.example\""},
      {"log_level = 'verbose'",
       f + ":1: log_level: must be \"debug\", \"info\", \"warn\" or \"error\", got \"verbose\""},
      {"[tls]\nmin_version = '1.1'",
       f + ":2: tls.min_version: must be \"1.2\" or \"1.3\", got \"1.1\""},
      {"[tls]\nmin_version = 1.3",
       f + ":2: tls.min_version: must be a string, not a floating-point "
           "number"},
      {"data_dir = ''", f + ":1: data_dir: must not be empty"},
      // Relays.
      {"[[relay]]\nhost = 'smtp.example.net'\ntls = 'ssl'",
       f + ":3: relay[0].tls: must be \"starttls\", \"implicit\" or \"none\", got \"ssl\""},
      {"[[relay]]\nport = 25", f + ":1: relay[0].host: required unless preset is set"},
      {"[[relay]]\nhost = 'a.example'\n[[relay]]\nhost = 'b.example'\nport = 0",
       f + ":5: relay[1].port: must be between 1 and 65535, got 0"},
      {"[[relay]]\nhost = 'a.example'\n\n[[relay]]\nhost = 'bad host'",
       f + ":5: relay[1].host: not a valid host name or IP address: \"bad host\""},
      {"[relay]\nhost = 'a.example'",
       f + ":1: relay: must be an array of tables: write [[relay]], not [relay]"},
      {"relay = ['a.example']", f + ":1: relay[0]: must be a table ([[relay]]), not a string"},
      {"[[relay]]\nhost = 'a.example'\nusername = 'me'",
       f + ":3: relay[0].password: required when username is set"},
      {"[[relay]]\nhost = 'a.example'\npassword = 'x'",
       f + ":3: relay[0].password: set without a username"},
      {"[[relay]]\nhost = 'a.example'\ndomains = ['example..com']",
       f + ":3: relay[0].domains[0]: not a valid domain name: \"example..com\""},
      // ${ENV} expansion.
      {"[[relay]]\nhost = 'smtp.example.net'\nusername = 'me'\npassword = '${HK_TEST_UNSET_VAR}'",
       f + ":4: relay[0].password: environment variable HK_TEST_UNSET_VAR is not set"},
      {"hostname = 'mx$.example.com'",
       f + ":1: hostname: a '$' must start ${NAME} or be doubled as $$ for a literal '$'"},
      {"[listen]\nsmtp = ['${HK_TEST_UNSET_VAR}:25']",
       f + ":2: listen.smtp[0]: environment variable HK_TEST_UNSET_VAR is not set"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of(c.text), c.error) << c.text;
  }
}

TEST(ParseConfig, SyntaxErrorNamesFileAndLine) {
  const std::string e = error_of("hostname = 'a.example'\nlog_level = \n");
  EXPECT_EQ(e.rfind(kFile.string() + ":2: ", 0), 0u) << e;
  const std::string dup = error_of("log_level = 'info'\nlog_level = 'debug'\n");
  EXPECT_EQ(dup.rfind(kFile.string() + ":2: ", 0), 0u) << dup;
}

TEST(ParseConfig, EnvDollarEscapes) {
  ::setenv("HK_TEST_USER", "user$1", 1);
  const Config c = parse(
      "[[relay]]\nhost = 'a.example'\nusername = '${HK_TEST_USER}'\npassword = "
      "'p$$w$$${HK_TEST_USER}'");
  EXPECT_EQ(c.relays[0].username, "user$1");
  EXPECT_EQ(c.relays[0].password, "p$w$user$1");
}

// to_toml prints every value so that parsing it back gives the same Config; passwords are masked.
TEST(ToToml, RoundTrip) {
  ::setenv("HK_TEST_RELAY_PASSWORD", "pa$s \"word\"", 1);
  for (const Config& original : {parse(""), parse(kFull)}) {
    const std::string text = to_toml(original);
    Config back;
    try {
      back = parse(text);
    } catch (const ConfigError& e) {
      FAIL() << e.what() << "\n" << text;
    }
    Config expected = original;
    for (Relay& r : expected.relays) {
      if (!r.password.empty()) {
        r.password = "***";
      }
    }
    EXPECT_EQ(back, expected) << text;
  }
}

TEST(ToToml, MasksPasswordsAndEscapes) {
  ::setenv("HK_TEST_RELAY_PASSWORD", "pa$s \"word\"", 1);
  const std::string text = to_toml(parse(kFull));
  EXPECT_EQ(text.find("pa$s"), std::string::npos) << text;
  EXPECT_NE(text.find("password = \"***\""), std::string::npos) << text;
  EXPECT_NE(text.find("max_message_size = \"10MB\""), std::string::npos) << text;
  EXPECT_NE(text.find("timeout = \"500ms\""), std::string::npos) << text;
  EXPECT_NE(text.find("data_timeout = \"1m30s\""), std::string::npos) << text;
  EXPECT_NE(text.find("[delivery]\nmta_sts = false\n"), std::string::npos) << text;

  Config c = parse("");
  c.relays.push_back(Relay{"a.example", 25, RelayTls::None, "u$er\"\\\n", "x", {}, ""});
  const Config back = parse(to_toml(c));
  EXPECT_EQ(back.relays.at(0).username, "u$er\"\\\n");
}

TEST(LoadConfig, MissingFile) {
  hk::test::TempDir dir;
  try {
    load_config(dir.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir.path() / "hikyaku.toml").string() + ": cannot read: No such file or directory");
  }
}

TEST(LoadConfig, ReadsFileAndResolvesPaths) {
  hk::test::TempDir dir;
  dir.write("hikyaku.toml",
            "hostname = \"mx.example.test\"\ndata_dir = \"data\"\n[limits]\nmax_recipients = 0\n");
  try {
    load_config(dir.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "hikyaku.toml").string() +
                                         ":4: limits.max_recipients: must be between 1 and "
                                         "10000, got 0");
  }
  dir.write("hikyaku.toml", "hostname = \"mx.example.test\"\ndata_dir = \"data\"\n");
  // A relative config dir is made absolute, so data_dir does not depend on a later chdir.
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path().parent_path());
  const Config c = load_config(dir.path().filename() / "");
  fs::current_path(old_cwd);
  EXPECT_EQ(c.config_dir, dir.path());
  EXPECT_EQ(c.file, dir.path() / "hikyaku.toml");
  EXPECT_EQ(c.data_dir, dir.path() / "data");
  EXPECT_EQ(c.certs_dir(), dir.path() / "certs");
  EXPECT_EQ(c.queue_dir(), dir.path() / "data" / "queue");
}

// The shipped example loads, and every value it writes is the built-in default, so the example's
// comments never lie about the defaults.
TEST(ExampleConfig, LoadsAndMatchesDefaults) {
  const fs::path dir = fs::path(HK_SOURCE_DIR) / "deploy";
  const Config c = load_config(dir);
  Config expected;
  expected.config_dir = c.config_dir;
  expected.file = c.file;
  expected.hostname = "mx.example.com";
  EXPECT_EQ(c, expected) << to_toml(c);
}

// Every key that print-config shows appears in the example, so an admin sees all of them.
TEST(ExampleConfig, WritesEveryKey) {
  const toml::table example =
      toml::parse_file((fs::path(HK_SOURCE_DIR) / "deploy/hikyaku.toml").string());
  const toml::table printed = toml::parse(to_toml(parse("")));
  for (auto&& [key, value] : printed) {
    ASSERT_TRUE(example.contains(key.str())) << key.str();
    if (const toml::table* t = value.as_table()) {
      const toml::table* et = example.get(key.str())->as_table();
      ASSERT_NE(et, nullptr) << key.str();
      for (auto&& [sub, v] : *t) {
        EXPECT_TRUE(et->contains(sub.str())) << key.str() << "." << sub.str();
      }
    }
  }
  std::string text;
  ASSERT_FALSE(base::read_file(fs::path(HK_SOURCE_DIR) / "deploy/hikyaku.toml", text));
  for (const char* relay_key :
       {"[[relay]]", "host =", "port =", "tls =", "username =", "password =", "domains ="}) {
    EXPECT_NE(text.find(std::string("# ") + relay_key), std::string::npos) << relay_key;
  }
}

}  // namespace
}  // namespace hk::config
