// [capture]: its defaults, the deliver patterns (and their errors), print-config's round trip,
// and what a reload may change.
#include <gtest/gtest.h>

#include "lib/config/config.hpp"
#include "lib/config/values.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

using test::error_of;
using test::parse;

const std::string kBase = "hostname = 'mx.example.test'\n";

TEST(CaptureKeys, Defaults) {
  Config c = parse(kBase);
  EXPECT_FALSE(c.capture.enabled);
  EXPECT_EQ(c.capture.max_messages, 10000u);
  EXPECT_TRUE(c.capture.deliver.empty());
}

TEST(CaptureKeys, Values) {
  Config c = parse(kBase +
                   "[capture]\nenabled = true\nmax_messages = 3\n"
                   "deliver = ['*@Real.Test', '*@*.corp.test', 'Ops@team.test']\n");
  EXPECT_TRUE(c.capture.enabled);
  EXPECT_EQ(c.capture.max_messages, 3u);
  EXPECT_EQ(c.capture.deliver,
            (std::vector<std::string>{"*@real.test", "*@*.corp.test", "ops@team.test"}));
  // print-config writes what parse reads back.
  EXPECT_EQ(parse(to_toml(c)), c);
}

TEST(CaptureKeys, Errors) {
  const std::string where = "/etc/hikyaku/hikyaku.toml:";
  const struct {
    std::string text, error;
  } cases[] = {
      {"[capture]\nmax_messages = 0\n",
       where + "3: capture.max_messages: must be between 1 and 10000000, got 0"},
      {"[capture]\nenabled = 'yes'\n",
       where + "3: capture.enabled: must be true or false, not a string"},
      {"[capture]\ndeliver = 'a@b.test'\n",
       where + "3: capture.deliver: must be an array, not a string"},
      {"[capture]\ndeliver = ['ok@b.test', 'b.test']\n",
       where +
           "3: capture.deliver[1]: must be \"*@domain\", \"*@*.domain\" or \"user@domain\", got "
           "\"b.test\""},
      {"[capture]\nfoo = 1\n", where + "3: capture.foo: unknown key"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_of(kBase + c.text), c.error) << c.text;
  }
}

TEST(CaptureKeys, AddressPatterns) {
  for (const char* good : {"*@example.com", "*@*.example.com", "user@example.com",
                           "first.last+tag@mail.example.com", "*@localhost"}) {
    EXPECT_TRUE(is_address_pattern(good)) << good;
  }
  for (const char* bad : {"", "example.com", "@example.com", "*@", "user@", "*@*", "*@*.",
                          "u*@example.com", "*@ex ample.com", "a b@example.com", "*@**.example.com",
                          "user@*.example.com", "*@example.com.", "*@1.2.3.4", "*@[1.2.3.4]"}) {
    EXPECT_FALSE(is_address_pattern(bad)) << bad;
  }
}

TEST(CaptureKeys, ReloadTakesAllButEnabled) {
  Config running = parse(kBase + "[capture]\nenabled = true\n");
  Config loaded =
      parse(kBase + "[capture]\nenabled = false\nmax_messages = 5\ndeliver = ['*@a.test']\n");
  EXPECT_EQ(diff_config(running, loaded), (std::vector<KeyChange>{{"capture.enabled", true},
                                                                  {"capture.max_messages", false},
                                                                  {"capture.deliver", false}}));
  Config applied = keep_restart_keys(running, loaded);
  EXPECT_TRUE(applied.capture.enabled);
  EXPECT_EQ(applied.capture.max_messages, 5u);
  EXPECT_EQ(applied.capture.deliver, std::vector<std::string>{"*@a.test"});
}

}  // namespace
}  // namespace hk::config
