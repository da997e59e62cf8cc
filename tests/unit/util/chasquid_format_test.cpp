// chasquid's users database, chasquid.conf and aliases files (util/chasquid_format.hpp).
#include "util/chasquid_format.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace hk::util::chasquid {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(HK_UTIL_TESTDATA) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChasquidUsers, FileWrittenByChasquidUtil) {
  auto users = parse_users(read_testdata("chasquid-users"), "users");
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_EQ(users[0].line, 3);
  EXPECT_EQ(users[0].scheme, Scheme::Scrypt);
  EXPECT_EQ(users[0].scrypt.log_n, 14u);
  EXPECT_EQ(users[0].scrypt.r, 8);
  EXPECT_EQ(users[0].scrypt.p, 1);
  EXPECT_EQ(users[0].scrypt.key_len, 32);
  EXPECT_EQ(users[0].scrypt.salt.size(), 16u);
  EXPECT_EQ(users[0].scrypt.salt.substr(0, 5), "\xbf;;R\x0b");
  EXPECT_EQ(users[0].scrypt.encrypted.size(), 32u);
  // chasquid writes bytes that form valid UTF-8 as they are, not escaped.
  EXPECT_EQ(users[1].name, "bob");
  EXPECT_EQ(users[1].scrypt.encrypted.size(), 32u);
  EXPECT_EQ(users[2].name, "carol.x");
  EXPECT_EQ(users[2].scrypt.salt.size(), 16u);
}

TEST(ChasquidUsers, PlainDeniedAndEmpty) {
  auto users = parse_users(
      "users { key: \"p\" value { plain { password: \"pw\" } } }\n"
      "users { key: \"d\" value { denied {} } }\n"
      "users { key: \"n\" }\n",
      "users");
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].scheme, Scheme::Plain);
  EXPECT_EQ(users[0].plain, "pw");
  EXPECT_EQ(users[1].scheme, Scheme::Denied);
  EXPECT_EQ(users[2].scheme, Scheme::None);
  EXPECT_TRUE(parse_users("", "users").empty());
}

TEST(ChasquidUsers, ErrorsNameFileAndLine) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"users: {\n  key: \"a\"\n  value: { scrypt: { logN: \"x\" } }\n}", "f:3: \"logN\""},
      {"user: {}", "f:1: unknown field \"user\""},
      {"users: {\n value {}\n}", "f:1: users entry without a key"},
      {"users { key: \"a\" value { scrypt {} plain {} } }", "f:1: user \"a\" has more than one"},
      {"users { key: \"a\" value { md5 {} } }", "f:1: unknown password scheme \"md5\""},
      {"users { key: \"a\" value { scrypt { salt: 3 } } }", "f:1: \"salt\" should be a string"},
      {"users { key: \"a\" value { scrypt { r: 99999999999 } } }", "f:1: \"r\" out of range"},
      {"users {\n key: \"a\n}", "f:2: string not closed"},
      {"users { key: 1 }", "f:1: \"key\" should be a string"},
  };
  for (const Case& c : cases) {
    try {
      parse_users(c.in, "f");
      ADD_FAILURE() << "no error for " << c.in;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos)
          << c.in << " gave " << e.what();
    }
  }
}

TEST(ChasquidConfig, Fields) {
  auto fields = parse_config(
      "hostname: \"mx.example.com\"\nsmtp_address: \":25\"\nsmtp_address: \"[::1]:2525\"\n", "c");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[2].text, "[::1]:2525");
  EXPECT_THROW(parse_config("hostname { x: 1 }", "c"), FormatError);
}

TEST(ChasquidAliases, Forms) {
  auto aliases = parse_aliases(
      "# comment\n"
      "\n"
      "pepe: jose\n"
      "  flowers : rose@backgarden, lilly@pond ,\n"
      "null: | cat -n\n"
      "*: pepe\n"
      "fwd: x@y via mx1/mx2\n",
      "a");
  ASSERT_EQ(aliases.size(), 5u);
  EXPECT_EQ(aliases[0].name, "pepe");
  EXPECT_EQ(aliases[0].line, 3);
  EXPECT_EQ(aliases[1].name, "flowers");
  EXPECT_EQ(aliases[1].targets, (std::vector<std::string>{"rose@backgarden", "lilly@pond"}));
  EXPECT_EQ(aliases[2].kind, AliasKind::Pipe);
  EXPECT_EQ(aliases[2].command, "cat -n");
  EXPECT_EQ(aliases[3].name, "*");
  EXPECT_EQ(aliases[4].targets, (std::vector<std::string>{"x@y via mx1/mx2"}));
}

TEST(ChasquidAliases, Errors) {
  const std::pair<std::string, std::string> cases[] = {
      {"a: b\nno colon\n", "a:2: missing ':'"},
      {": b", "a:1: missing address or alias"},
      {"x:", "a:1: missing address or alias"},
      {"x@y: z", "a:1: left side cannot contain '@'"},
      {"x: |  ", "a:1: pipe alias without a command"},
      {"x: , ,", "a:1: no target addresses"},
  };
  for (const auto& [in, want] : cases) {
    try {
      parse_aliases(in, "a");
      ADD_FAILURE() << "no error for " << in;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << in << " gave " << e.what();
    }
  }
}

TEST(GoDuration, Values) {
  const std::pair<std::string, int64_t> good[] = {
      {"20h", 72000}, {"360m", 21600}, {"1h30m", 5400}, {"2.5h", 9000},
      {"300s", 300},  {"1500ms", 1},   {"0", 0},        {"+1h", 3600},
  };
  for (const auto& [in, want] : good) {
    int64_t s = -1;
    EXPECT_TRUE(parse_go_duration(in, s)) << in;
    EXPECT_EQ(s, want) << in;
  }
  for (std::string bad : {"", "-1h", "1d", "h", "1", "1h x", "1e400h", ".h"}) {
    int64_t s = 0;
    EXPECT_FALSE(parse_go_duration(bad, s)) << bad;
  }
}

}  // namespace
}  // namespace hk::util::chasquid
