// lib/base/json.hpp: RFC 8259 §7 string escaping; the output always parses.
#include "lib/base/json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::base {
namespace {

TEST(Json, AppendString) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"", "\"\""},
      {"plain", "\"plain\""},
      {"q\"uote", "\"q\\\"uote\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"line\nbreak\ttab\rcr", "\"line\\nbreak\\ttab\\rcr\""},
      {std::string("nul\0x", 5), "\"nul\\u0000x\""},
      {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
      {"/", "\"/\""},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\""},
      {"bad \xff end", "\"bad \\ufffd end\""},
      {"\xc3", "\"\\ufffd\""},                        // truncated sequence
      {"\xc0\xaf", "\"\\ufffd\\ufffd\""},             // overlong form
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},  // UTF-16 surrogate
  };
  for (const Case& c : cases) {
    std::string out = "x";
    append_json_string(out, c.in);
    EXPECT_EQ(out, "x" + c.want) << c.in;
  }
}

}  // namespace
}  // namespace hk::base
