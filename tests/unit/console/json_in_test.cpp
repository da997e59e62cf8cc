// daemon/console/json_in.hpp: the request-body reader accepts RFC 8259 JSON and refuses the rest
// with a message, never throwing.
#include "daemon/console/json_in.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::console::json_in {
namespace {

TEST(JsonIn, ReadsTheBodiesOfApiV1) {
  std::string error;
  auto v = parse(R"( {"IDs": ["a1", "b\u00e9"], "Read": true, "Search": "from:x", "n": -1.5e2,
                     "z": null} )",
                 error);
  ASSERT_TRUE(v) << error;
  ASSERT_EQ(v->kind, Value::Kind::Object);
  auto ids = string_list(*v->get("IDs"));
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a1", "b\xc3\xa9"}));
  EXPECT_TRUE(v->get("Read")->boolean);
  EXPECT_EQ(v->get("Search")->string, "from:x");
  EXPECT_EQ(v->get("n")->number, -150);
  EXPECT_EQ(v->get("z")->kind, Value::Kind::Null);
  EXPECT_EQ(v->get("missing"), nullptr);
  EXPECT_FALSE(string_list(*v->get("Read")));
}

TEST(JsonIn, Escapes) {
  std::string error;
  auto v = parse(R"("q\" b\\ s\/ \b\f\n\r\t \ud83d\udce7 \u20ac")", error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(v->string, "q\" b\\ s/ \b\f\n\r\t \xf0\x9f\x93\xa7 \xe2\x82\xac");
  EXPECT_FALSE(string_list(*v));
}

TEST(JsonIn, RefusesWhatIsNotJson) {
  const char* bad[] = {
      "",
      "{",
      "{\"a\":}",
      "{\"a\" 1}",
      "{\"a\":1,}",
      "[1,]",
      "[1 2]",
      "{a:1}",
      "'x'",
      "\"unterminated",
      "\"ctl\x01\"",
      "\"bad \\x escape\"",
      "\"\\ud83d alone\"",
      "\"\\udce7\"",
      "\"\xff\"",
      "01",
      "1.",
      "-",
      "1e",
      "tru",
      "nul",
      "{} x",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  };
  for (const char* text : bad) {
    std::string error;
    EXPECT_FALSE(parse(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(JsonIn, DepthIsBounded) {
  std::string error;
  EXPECT_TRUE(parse("[[[1]]]", error, 3));
  EXPECT_FALSE(parse("[[[[1]]]]", error, 3));
  EXPECT_NE(error.find("deeply"), std::string::npos);
  // Deep enough to overflow the stack without the bound.
  std::string deep(100000, '[');
  EXPECT_FALSE(parse(deep, error));
}

}  // namespace
}  // namespace hk::console::json_in
