// Tests that hold the key table (lib/config/keys.hpp), the parser, print-config and the shipped
// example deploy/hikyaku.toml to each other, and the enums read from log_level and tls.min_version.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <regex>
#include <set>

#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "tests/unit/config/parse_helpers.hpp"

namespace hk::config {
namespace {

namespace fs = std::filesystem;

using test::error_of;
using test::kDir;
using test::kFile;
using test::parse;

std::string dotted(const KeyName& k) {
  return k.section.empty() ? k.name : k.section + "." + k.name;
}

// The first lines of a file that opens `section`, and how its keys are named in errors.
std::string header(const std::string& section) {
  if (section.empty()) {
    return "";
  }
  return section == "relay" ? "[[relay]]\n" : "[" + section + "]\n";
}
std::string prefix(const std::string& section) {
  if (section.empty()) {
    return "";
  }
  return section == "relay" ? "relay[0]." : section + ".";
}

std::set<std::string> sections() {
  std::set<std::string> out;
  for (const KeyName& k : known_keys()) {
    out.insert(k.section);
  }
  return out;
}

TEST(KeyTable, ListsEveryKeyOnce) {
  const std::vector<KeyName>& keys = known_keys();
  const std::set<KeyName> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size());
  EXPECT_EQ(keys.front(), (KeyName{"", "hostname"}));
  EXPECT_EQ(keys.back(), (KeyName{"relay", "domains"}));
  EXPECT_TRUE(unique.contains({"limits", "max_recipients"}));
  EXPECT_TRUE(unique.contains({"tls", "min_version"}));
  EXPECT_TRUE(unique.contains({"", "log_level"}));
  EXPECT_EQ(sections(),
            (std::set<std::string>{"", "listen", "limits", "auth", "tls", "queue", "srs", "dns",
                                   "spf", "dmarc", "delivery", "capture", "console", "relay"}));
}

// A value of the wrong type under every key of the table is refused with that key's name and line,
// so every key is read, and read under its own name.
TEST(KeyTable, EveryKeyIsReadUnderItsName) {
  for (const KeyName& k : known_keys()) {
    const std::string text = header(k.section) + k.name + " = {}\n";
    const std::string line = k.section.empty() ? "1" : "2";
    const std::string expected =
        kFile.string() + ":" + line + ": " + prefix(k.section) + k.name + ": must be ";
    EXPECT_EQ(error_of(text).rfind(expected, 0), 0u) << text << "\n" << error_of(text);
  }
}

TEST(KeyTable, EverySectionRefusesUnknownKeys) {
  for (const std::string& section : sections()) {
    const std::string text = header(section) + "colour = 'red'\n";
    const std::string line = section.empty() ? "1" : "2";
    EXPECT_EQ(error_of(text),
              kFile.string() + ":" + line + ": " + prefix(section) + "colour: unknown key")
        << text;
  }
}

// print-config shows every key of the table (a relay's preset, username and password only when
// set).
TEST(KeyTable, PrintConfigShowsEveryKey) {
  const toml::table printed = toml::parse(to_toml(
      parse("hostname = 'mx.example.test'\nrun_as = 'hikyaku'\n[[relay]]\npreset = 'gmail'\n"
            "host = 'smtp.example.net'\n"
            "username = 'me'\npassword = 'secret'\n")));
  for (const KeyName& k : known_keys()) {
    const toml::node* section = k.section.empty() ? &printed : printed.get(k.section);
    if (k.section == "relay") {
      section = printed["relay"][0].node();
    }
    ASSERT_NE(section, nullptr) << k.section;
    ASSERT_TRUE(section->is_table()) << k.section;
    EXPECT_TRUE(section->as_table()->contains(k.name)) << dotted(k);
  }
}

TEST(EnumKeys, LogLevel) {
  const struct {
    const char* text;
    base::LogLevel level;
  } cases[] = {
      {"debug", base::LogLevel::Debug},
      {"info", base::LogLevel::Info},
      {"warn", base::LogLevel::Warn},
      {"error", base::LogLevel::Error},
  };
  for (const auto& c : cases) {
    const Config cfg = parse(std::string("log_level = '") + c.text + "'");
    EXPECT_EQ(cfg.log_level, c.level) << c.text;
    const std::string printed = to_toml(cfg);
    EXPECT_NE(printed.find(std::string("\nlog_level = \"") + c.text + "\"\n"), std::string::npos)
        << printed;
  }
  const std::string f = kFile.string();
  EXPECT_EQ(error_of("\nlog_level = 'Debug'"),
            f + ":2: log_level: must be \"debug\", \"info\", \"warn\" or \"error\", got \"Debug\"");
  EXPECT_EQ(error_of("log_level = ''"),
            f + ":1: log_level: must be \"debug\", \"info\", \"warn\" or \"error\", got \"\"");
  EXPECT_EQ(error_of("log_level = 1"), f + ":1: log_level: must be a string, not an integer");
}

TEST(EnumKeys, TlsMinVersion) {
  const struct {
    const char* text;
    base::MinTls min;
  } cases[] = {
      {"1.2", base::MinTls::V1_2},
      {"1.3", base::MinTls::V1_3},
  };
  for (const auto& c : cases) {
    const Config cfg = parse(std::string("[tls]\nmin_version = '") + c.text + "'");
    EXPECT_EQ(cfg.tls.min_version, c.min) << c.text;
    const std::string printed = to_toml(cfg);
    EXPECT_NE(printed.find(std::string("[tls]\nmin_version = \"") + c.text + "\"\n"),
              std::string::npos)
        << printed;
  }
  EXPECT_EQ(error_of("[tls]\n\nmin_version = 'TLSv1.3'"),
            kFile.string() + ":3: tls.min_version: must be \"1.2\" or \"1.3\", got \"TLSv1.3\"");
}

TEST(EnumKeys, SrsEnabledAndDomain) {
  const struct {
    const char* text;
    SrsMode mode;
    const char* printed;
  } cases[] = {
      {"'auto'", SrsMode::Auto, "\"auto\""},  {"'true'", SrsMode::On, "\"true\""},
      {"'false'", SrsMode::Off, "\"false\""}, {"true", SrsMode::On, "\"true\""},
      {"false", SrsMode::Off, "\"false\""},
  };
  for (const auto& c : cases) {
    const Config cfg = parse(std::string("[srs]\nenabled = ") + c.text);
    EXPECT_EQ(cfg.srs.enabled, c.mode) << c.text;
    const std::string printed = to_toml(cfg);
    EXPECT_NE(printed.find(std::string("[srs]\nenabled = ") + c.printed + "\n"), std::string::npos)
        << printed;
    EXPECT_EQ(parse(printed).srs.enabled, c.mode);
  }
  EXPECT_EQ(parse("").srs.enabled, SrsMode::Auto);
  EXPECT_EQ(parse("").srs.max_age, std::chrono::hours(21 * 24));
  EXPECT_NE(to_toml(parse("")).find("\ndomain = \"\"\n"), std::string::npos);  // "" = not set
  EXPECT_EQ(parse("[srs]\ndomain = ''").srs.domain, "");
  const Config d = parse("[srs]\ndomain = 'Example.ORG'\nmax_age = '30d'");
  EXPECT_EQ(d.srs.domain, "example.org");
  EXPECT_EQ(d.srs.max_age, std::chrono::hours(30 * 24));
  EXPECT_NE(to_toml(d).find("domain = \"example.org\"\nmax_age = \"30d\"\n"), std::string::npos)
      << to_toml(d);
  EXPECT_EQ(
      error_of("[srs]\nenabled = 'yes'"),
      kFile.string() + ":2: srs.enabled: must be \"auto\", \"true\" or \"false\", got \"yes\"");
  EXPECT_EQ(error_of("[srs]\ndomain = 'no domain'"),
            kFile.string() + ":2: srs.domain: not a valid domain name: \"no domain\"");
  EXPECT_NE(error_of("[srs]\nmax_age = '12h'").find("srs.max_age"), std::string::npos);
  EXPECT_NE(error_of("[srs]\nmax_age = '1024d'").find("srs.max_age"), std::string::npos);
}

// The keys a hikyaku.toml text shows: written ("key = …") or commented out ("# key = …"), under
// the section opened last ("[name]", "[[name]]", also when commented out).
struct Shown {
  std::set<KeyName> written;
  std::set<KeyName> commented;
};

Shown keys_shown(std::string_view text) {
  static const std::regex kHeader(R"(^(#\s*)?\[\[?([a-z_]+)\]\]?\s*(#.*)?$)");
  static const std::regex kKey(R"(^(#\s*)?([a-z_0-9]+)\s*=\s*\S)");
  Shown out;
  std::string section;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end;
    const std::string line(text.substr(start, end - start));
    start = end + 1;
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      section = m[2];
    } else if (std::regex_search(line, m, kKey)) {
      (m[1].matched ? out.commented : out.written).insert({section, m[2]});
    }
  }
  return out;
}

// What an example file gets wrong: keys of the table it does not show, keys it shows that the
// table does not have.
std::vector<std::string> example_problems(std::string_view text) {
  const Shown shown = keys_shown(text);
  std::set<KeyName> all = shown.written;
  all.insert(shown.commented.begin(), shown.commented.end());
  std::vector<std::string> out;
  for (const KeyName& k : known_keys()) {
    if (!all.contains(k)) {
      out.push_back(dotted(k) + ": not documented");
    }
  }
  const std::vector<KeyName>& known = known_keys();
  for (const KeyName& k : all) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      out.push_back(dotted(k) + ": not a key");
    }
  }
  return out;
}

TEST(ExampleCheck, FindsMissingAndUnknownKeys) {
  const Shown shown = keys_shown(
      "# Prose = is not a key.\nhostname = \"a.example\"\n# log_level = \"info\"\n[limits]\n"
      "max_recipients = 100  # a comment\n# Smart hosts: see [[relay]] below.\n#\n"
      "# [[relay]]\n# host = \"smtp.example.net\"   # required\n");
  EXPECT_EQ(shown.written, (std::set<KeyName>{{"", "hostname"}, {"limits", "max_recipients"}}));
  EXPECT_EQ(shown.commented, (std::set<KeyName>{{"", "log_level"}, {"relay", "host"}}));

  // A text showing every key of the table is right; one key less, or one unknown more, is not.
  std::string all;
  std::string section;
  for (const KeyName& k : known_keys()) {
    if (k.section != section) {
      section = k.section;
      all += (section == "relay" ? "# [[relay]]\n" : "[" + section + "]\n");
    }
    all += (section == "relay" ? "# " : "") + k.name + " = 1\n";
  }
  EXPECT_EQ(example_problems(all), std::vector<std::string>{});
  std::string wrong = all;
  wrong.replace(wrong.find("max_recipients = 1"), 14, "max_recipents");
  EXPECT_EQ(example_problems(wrong),
            (std::vector<std::string>{"limits.max_recipients: not documented",
                                      "limits.max_recipents: not a key"}));
}

// deploy/hikyaku.toml shows every key of the table, written or commented out, and nothing else;
// a new key cannot go unexplained to admins. (ExampleConfig.* in config_test.cpp load it.)
TEST(ExampleCheck, DeployExampleDocumentsEveryKey) {
  std::string text;
  ASSERT_FALSE(base::read_file(fs::path(HK_SOURCE_DIR) / "deploy/hikyaku.toml", text));
  EXPECT_EQ(example_problems(text), std::vector<std::string>{});
}

}  // namespace
}  // namespace hk::config
