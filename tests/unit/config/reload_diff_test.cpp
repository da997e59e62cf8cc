// diff_config and keep_restart_keys: what a reload reports and what it puts in force.
#include <gtest/gtest.h>

#include "lib/config/config.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

using test::parse;

TEST(ReloadDiff, SameTextNoChange) {
  const char* text = "hostname = 'mx.example.test'\n[limits]\nmax_recipients = 7\n";
  EXPECT_TRUE(diff_config(parse(text), parse(text)).empty());
}

TEST(ReloadDiff, TableOfChanges) {
  const std::string base = "hostname = 'mx.example.test'\n";
  const struct {
    std::string added;
    std::vector<KeyChange> want;
  } cases[] = {
      {"trusted_networks = ['10.0.0.0/8']\n", {{"trusted_networks", false}}},
      {"[limits]\nmax_recipients = 7\nshutdown_grace = '5s'\n",
       {{"limits.max_recipients", false}, {"limits.shutdown_grace", false}}},
      {"[queue]\nretry = ['1m']\n", {{"queue.retry", false}}},
      {"[spf]\nreject_fail = true\n", {{"spf.reject_fail", false}}},
      {"[delivery]\nmta_sts = false\n", {{"delivery.mta_sts", false}}},
      {"log_level = 'debug'\n", {{"log_level", false}}},
      {"data_dir = '/srv/mail'\n", {{"data_dir", true}}},
      {"run_as = 'hikyaku'\n", {{"run_as", true}}},
      {"[listen]\nsmtp = ['127.0.0.1:2525']\n", {{"listen.smtp", true}}},
      {"[dns]\nservers = ['127.0.0.1:5353']\n", {{"dns.servers", false}}},
      {"[tls]\nmin_version = '1.3'\n", {{"tls.min_version", true}}},
      {"[tls]\nsession_tickets = true\n", {{"tls.session_tickets", true}}},
      {"[[relay]]\nhost = 'smtp.example.net'\n", {{"relay", false}}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(diff_config(parse(base), parse(base + c.added)), c.want) << c.added;
  }
  // A hostname change too, against another name.
  EXPECT_EQ(diff_config(parse(base), parse("hostname = 'other.example.test'\n")),
            (std::vector<KeyChange>{{"hostname", true}}));
}

TEST(ReloadDiff, RelayPasswordChangeIsSeen) {
  // print-config hides passwords; the diff must not.
  const std::string relay =
      "hostname = 'mx.example.test'\n[[relay]]\nhost = 'smtp.example.net'\nusername = 'me'\n";
  EXPECT_EQ(diff_config(parse(relay + "password = 'a'\n"), parse(relay + "password = 'b'\n")),
            (std::vector<KeyChange>{{"relay", false}}));
}

TEST(ReloadDiff, KeepRestartKeysKeepsEveryRestartKey) {
  Config running = parse("hostname = 'mx.example.test'\n");
  Config loaded = parse(
      "hostname = 'other.example.test'\ndata_dir = '/srv/mail'\nrun_as = 'nobody'\n"
      "trusted_networks = ['10.0.0.0/8']\n[listen]\nsmtp = ['127.0.0.1:2525']\n"
      "[dns]\nservers = ['127.0.0.1:5353']\n[tls]\nmin_version = '1.3'\n"
      "session_tickets = true\n[limits]\nmax_recipients = 7\n");
  Config applied = keep_restart_keys(running, loaded);
  // What is left different from the running config is exactly what may be reloaded.
  for (const KeyChange& c : diff_config(running, applied)) {
    EXPECT_FALSE(c.needs_restart) << c.key;
  }
  EXPECT_EQ(diff_config(running, applied), (std::vector<KeyChange>{{"trusted_networks", false},
                                                                   {"limits.max_recipients", false},
                                                                   {"dns.servers", false}}));
  EXPECT_EQ(applied.hostname, "mx.example.test");
  EXPECT_EQ(applied.limits.max_recipients, 7u);
}

}  // namespace
}  // namespace hk::config
