// The protocol buffers text format reader (util/prototext.hpp).
#include "util/prototext.hpp"

#include <gtest/gtest.h>

namespace hk::util::prototext {
namespace {

TEST(Prototext, ScalarsAndMessages) {
  auto fields = parse(
      "# a comment\n"
      "hostname: \"mx.example.com\"  # trailing comment\n"
      "max_data_size_mb: 50\n"
      "dovecot_auth: true\n"
      "users: {\n  key: 'alice'\n  value { scrypt < logN: 14, r: 8; p: 1 > }\n}\n");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].name, "hostname");
  EXPECT_EQ(fields[0].kind, Kind::String);
  EXPECT_EQ(fields[0].text, "mx.example.com");
  EXPECT_EQ(fields[0].line, 2);
  EXPECT_EQ(fields[1].kind, Kind::Number);
  unsigned long long v = 0;
  EXPECT_TRUE(to_uint64(fields[1], v));
  EXPECT_EQ(v, 50u);
  bool b = false;
  EXPECT_TRUE(to_bool(fields[2], b));
  EXPECT_TRUE(b);
  const Field& users = fields[3];
  EXPECT_EQ(users.kind, Kind::Message);
  EXPECT_EQ(users.line, 5);
  ASSERT_EQ(users.fields.size(), 2u);
  EXPECT_EQ(users.fields[0].text, "alice");
  const Field& scrypt = users.fields[1].fields.at(0);
  EXPECT_EQ(scrypt.name, "scrypt");
  ASSERT_EQ(scrypt.fields.size(), 3u);
  EXPECT_EQ(scrypt.fields[2].name, "p");
  EXPECT_EQ(scrypt.fields[2].line, 7);
}

TEST(Prototext, StringEscapes) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {R"("plain")", "plain"},
      {R"("\x04wu\xbf;")", std::string("\x04wu\xbf;")},
      {R"("\x0")", std::string(1, '\0')},
      {R"("a\000b")", std::string("a\0b", 3)},
      {R"("\101\60\7")", "A0\x07"},
      {R"("\a\b\f\n\r\t\v\\\'\"\?")", "\a\b\f\n\r\t\v\\'\"?"},
      {R"("\u00e9\U0001F600")", "\xc3\xa9\xf0\x9f\x98\x80"},
      {R"('single "quotes"')", "single \"quotes\""},
      {R"("con" 'cat' "enated")", "concatenated"},
      {"\"raw UTF-8 \xcc\xb9 kept\"", "raw UTF-8 \xcc\xb9 kept"},
      {R"("\xAbc")",
       "\xab"
       "c"},
  };
  for (const Case& c : cases) {
    auto fields = parse("f: " + c.in);
    ASSERT_EQ(fields.size(), 1u) << c.in;
    EXPECT_EQ(fields[0].text, c.want) << c.in;
  }
}

TEST(Prototext, Lists) {
  auto fields = parse("a: [\"x\", \"y\"] b: [] c: [{n: 1}, {n: 2}]");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].text, "x");
  EXPECT_EQ(fields[1].text, "y");
  EXPECT_EQ(fields[2].name, "c");
  EXPECT_EQ(fields[3].fields.at(0).text, "2");
}

TEST(Prototext, Numbers) {
  auto fields = parse("a: 0x1F b: 017 c: -3 d: 1.5e-3 e: 18446744073709551616");
  unsigned long long v = 0;
  EXPECT_TRUE(to_uint64(fields[0], v));
  EXPECT_EQ(v, 31u);
  EXPECT_TRUE(to_uint64(fields[1], v));
  EXPECT_EQ(v, 15u);
  EXPECT_FALSE(to_uint64(fields[2], v));
  EXPECT_EQ(fields[3].text, "1.5e-3");
  EXPECT_FALSE(to_uint64(fields[3], v));
  EXPECT_FALSE(to_uint64(fields[4], v));
}

TEST(Prototext, ErrorsNameTheLine) {
  struct Case {
    std::string in;
    int line;
    std::string has;
  };
  const Case cases[] = {
      {"a: \"open\n", 1, "not closed"},
      {"a: 1\nb {\n c: 2\n", 4, "'}' missing"},
      {"a: 1\n\n: 2", 3, "expected a field name"},
      {"a 1", 1, "expected ':' or '{'"},
      {"a: \"\\q\"", 1, "unknown escape"},
      {"a: \"\\x\"", 1, "without hex digits"},
      {"a: \"\\400\"", 1, "octal"},
      {"a: \"\\ud800\"", 1, "Unicode"},
      {"a: \"\\u12\"", 1, "4 hex digits"},
      {"a: }", 1, "expected a value"},
      {"a: [1 2]", 1, "expected ',' or ']'"},
      {"[ext]: 1", 1, "extension"},
      {"a: 1\n\x01", 2, "0x01"},
      {"a: -", 1, "not a number"},
  };
  for (const Case& c : cases) {
    try {
      parse(c.in);
      ADD_FAILURE() << "no error for " << c.in;
    } catch (const ParseError& e) {
      EXPECT_EQ(e.line, c.line) << c.in << ": " << e.what();
      EXPECT_NE(e.message.find(c.has), std::string::npos) << c.in << ": " << e.what();
    }
  }
}

TEST(Prototext, DepthIsBounded) {
  std::string deep;
  for (int i = 0; i < kMaxDepth + 5; ++i) {
    deep += "a {";
  }
  EXPECT_THROW(parse(deep), ParseError);
  std::string ok;
  for (int i = 0; i < 10; ++i) {
    ok += "a {";
  }
  ok += std::string(10, '}');
  EXPECT_EQ(parse(ok).size(), 1u);
}

}  // namespace
}  // namespace hk::util::prototext
