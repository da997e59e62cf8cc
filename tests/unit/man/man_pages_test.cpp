// Holds the man pages (docs/man) to the code, so that they cannot drift: every key of the key
// table (lib/config/keys.hpp) has an entry in hikyaku.toml(5) under its section, every command
// and --option that `hikyaku-util --help` lists is in hikyaku-util(8), and every option of
// `hikyaku --help` is in hikyaku(8).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "tests/support/child.hpp"

namespace hk {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      nl = text.size();
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// A roff line as a reader sees its words: no macro name, no font changes, no quotes, "\-" as "-".
std::string plain(std::string line) {
  line = std::regex_replace(line, std::regex(R"(^\.[A-Za-z]+\s*)"), "");
  line = std::regex_replace(line, std::regex(R"(\\f[BIRP])"), "");
  line = replace_all(line, "\\-", "-");
  line = replace_all(line, "\\(dq", "\x01");  // a quote that is part of the text
  line = replace_all(line, "\"", "");
  line = replace_all(line, "\x01", "\"");
  line = replace_all(line, "\\&", "");
  line = replace_all(line, "\\c", "");
  return line;
}

std::string read_page(const std::string& name) {
  std::string text;
  const fs::path path = fs::path(HK_SOURCE_DIR) / "docs/man" / name;
  EXPECT_FALSE(base::read_file(path, text)) << path;
  return text;
}

// The page's words, as plain text.
std::string page_text(const std::string& roff) {
  std::string out;
  for (const std::string& line : lines_of(roff)) {
    if (!line.starts_with(".\\\"")) {
      out += plain(line) + "\n";
    }
  }
  return out;
}

// The entries of a page: the first word of each .TP/.TQ tag, by the .SS heading it stands under.
std::map<std::string, std::set<std::string>> entries(const std::string& roff) {
  std::map<std::string, std::set<std::string>> out;
  std::string heading;
  bool tag_next = false;
  for (const std::string& line : lines_of(roff)) {
    if (line.starts_with(".SS ") || line.starts_with(".SH ")) {
      heading = plain(line);
      tag_next = false;
    } else if (line == ".TP" || line == ".TQ") {
      tag_next = true;
    } else if (tag_next) {
      tag_next = false;
      const std::string words = plain(line);
      out[heading].insert(words.substr(0, words.find(' ')));
    }
  }
  return out;
}

// What a program prints for --help.
std::vector<std::string> help_of(const std::string& program) {
  test::Child child({program, "--help"}, /*capture_stdout=*/true);
  std::vector<std::string> out;
  while (auto line = child.read_line(10s)) {
    out.push_back(*line);
  }
  EXPECT_FALSE(out.empty()) << program;
  return out;
}

std::set<std::string> options_in(const std::string& text) {
  std::set<std::string> out;
  const std::regex option(R"((^|[\s\[|,])(--?[A-Za-z][A-Za-z0-9-]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), option);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[2]);
  }
  return out;
}

// The .SS heading a section's keys stand under in hikyaku.toml(5).
std::string heading_of(const std::string& section) {
  if (section.empty()) {
    return "Top level";
  }
  return section == "relay" ? "[[relay]]" : "[" + section + "]";
}

TEST(ManPages, EveryConfigKeyHasAnEntryUnderItsSection) {
  const auto documented = entries(read_page("hikyaku.toml.5"));
  for (const config::KeyName& k : config::known_keys()) {
    const std::string heading = heading_of(k.section);
    auto it = documented.find(heading);
    ASSERT_NE(it, documented.end()) << "hikyaku.toml.5 has no .SS \"" << heading << "\"";
    EXPECT_TRUE(it->second.contains(k.name)) << "hikyaku.toml.5 has no entry (.TP, then .B "
                                             << k.name << ") under .SS \"" << heading << "\"";
  }
}

TEST(ManPages, EveryUtilCommandAndOptionIsDocumented) {
  const std::string roff = read_page("hikyaku-util.8");
  std::set<std::string> documented;
  for (const auto& [heading, names] : entries(roff)) {
    documented.insert(names.begin(), names.end());
  }
  const std::string text = page_text(roff);
  // Commands are the lines "  NAME USAGE" after "Commands:"; their help is indented further.
  const std::regex command_line(R"(^  ([a-z][a-z0-9-]*)( (.*))?$)");
  bool in_commands = false;
  int commands = 0;
  for (const std::string& line : help_of(HK_UTIL)) {
    if (line == "Commands:") {
      in_commands = true;
      continue;
    }
    std::smatch m;
    const bool usage = std::regex_match(line, m, command_line);
    if (!in_commands) {
      for (const std::string& option : options_in(line)) {
        EXPECT_NE(text.find(option), std::string::npos) << "hikyaku-util.8 lacks " << option;
      }
    } else if (usage) {
      ++commands;
      EXPECT_TRUE(documented.contains(m[1])) << "hikyaku-util.8 has no entry for " << m[1];
      for (const std::string& option : options_in(m[3])) {
        EXPECT_NE(text.find(option), std::string::npos)
            << "hikyaku-util.8 lacks " << option << " of " << m[1];
      }
    }
  }
  EXPECT_GT(commands, 10);
}

TEST(ManPages, EveryDaemonOptionIsDocumented) {
  const std::string text = page_text(read_page("hikyaku.8"));
  std::set<std::string> options;
  for (const std::string& line : help_of(HK_DAEMON)) {
    for (const std::string& option : options_in(line)) {
      options.insert(option);
    }
  }
  EXPECT_TRUE(options.contains("--check-config"));
  for (const std::string& option : options) {
    EXPECT_NE(text.find(option), std::string::npos) << "hikyaku.8 lacks " << option;
  }
}

}  // namespace
}  // namespace hk
