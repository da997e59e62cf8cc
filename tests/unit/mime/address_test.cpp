// Address lists as mailers write them, the obsolete forms included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

using List = std::vector<Address>;

struct AddrCase {
  const char* in;
  List out;
};

TEST(AddressList, Table) {
  const AddrCase cases[] = {
      {"bob@example.com", {{"", "bob@example.com"}}},
      {"<bob@example.com>", {{"", "bob@example.com"}}},
      {"Bob Smith <bob@example.com>", {{"Bob Smith", "bob@example.com"}}},
      {"\"Smith, Bob\" <bob@example.com>, alice@example.org",
       {{"Smith, Bob", "bob@example.com"}, {"", "alice@example.org"}}},
      {"\"Bob \\\"the\\\" Smith\" <bob@example.com>", {{"Bob \"the\" Smith", "bob@example.com"}}},
      // RFC 2047 in the phrase, adjacent words joined; and inside quotes (Outlook).
      {"=?UTF-8?B?SsO8cmdlbg==?= =?UTF-8?Q?_M=C3=BCller?= <jm@example.de>",
       {{"Jürgen Müller", "jm@example.de"}}},
      {"\"=?utf-8?Q?Ren=C3=A9e?=\" <renee@example.fr>", {{"Renée", "renee@example.fr"}}},
      {"=?ISO-2022-JP?B?GyRCJEgkYiQkJCYbKEI=?= <t@example.jp>", {{"ともいう", "t@example.jp"}}},
      // Groups flattened; empty groups give nothing.
      {"Team: a@example.com, \"B\" <b@example.com>;, c@example.com",
       {{"", "a@example.com"}, {"B", "b@example.com"}, {"", "c@example.com"}}},
      {"undisclosed-recipients:;", {}},
      {"Undisclosed recipients: ;", {}},
      // Comments: dropped, or the name of "addr (Name)".
      {"bob@example.com (Bob Smith)", {{"Bob Smith", "bob@example.com"}}},
      {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
       {{"Pete", "pete@silly.test"}}},
      {"(comment) Bob <bob@example.com> (trailing)", {{"Bob", "bob@example.com"}}},
      // Obsolete forms (RFC 5322 §4.4): route, spaces around the dots and the at sign, empty
      // list elements.
      {"Joe <@relay.example,@b.example:joe@example.com>", {{"Joe", "joe@example.com"}}},
      {"john . doe @ example . com", {{"", "john.doe@example.com"}}},
      {"a@example.com,, ,b@example.com", {{"", "a@example.com"}, {"", "b@example.com"}}},
      // Quoted local part.
      {"\"john doe\"@example.com", {{"", "\"john doe\"@example.com"}}},
      // Broken but common: a missing closing bracket, a name without brackets, no address.
      {"Bob <bob@example.com", {{"Bob", "bob@example.com"}}},
      {"Bob Smith bob@example.com", {{"Bob Smith", "bob@example.com"}}},
      {"Just A Name", {{"Just A Name", ""}}},
      {"root", {{"", "root"}}},
      {"", {}},
      // Raw UTF-8 (RFC 6532) and raw Latin-1 in names.
      {"Jürgen <j@example.de>", {{"Jürgen", "j@example.de"}}},
      {"J\xFCrgen <j@example.de>", {{"Jürgen", "j@example.de"}}},
      {"  Lots   of\t space  <x@example.com>", {{"Lots of space", "x@example.com"}}},
  };
  for (const AddrCase& c : cases) {
    EXPECT_EQ(parse_address_list(c.in), c.out) << c.in;
  }
}

TEST(AddressList, FromParsedHeaders) {
  Message m = parse(
      "From: =?utf-8?q?Caf=C3=A9?= Owner\r\n <owner@example.com>\r\nTo: a@example.com,\r\n"
      "  b@example.com\r\n\r\nhi\r\n");
  ASSERT_EQ(m.headers.size(), 2U);
  EXPECT_EQ(parse_address_list(m.headers[0].raw), (List{{"Café Owner", "owner@example.com"}}));
  EXPECT_EQ(parse_address_list(m.headers[1].raw).size(), 2U);
}

TEST(AddressList, HugeListIsLinear) {
  std::string big;
  for (int i = 0; i < 100000; ++i) {
    big += "\"N" + std::to_string(i) + "\" <u" + std::to_string(i) + "@example.com>, (c) ";
  }
  List l = parse_address_list(big);
  ASSERT_EQ(l.size(), 100000U);
  EXPECT_EQ(l[99999].address, "u99999@example.com");
  // Unclosed quote / comment / bracket run to the end without trouble.
  EXPECT_EQ(parse_address_list(std::string(100000, '"')).size(), 1U);
  EXPECT_LE(parse_address_list(std::string(100000, '(')).size(), 1U);
  EXPECT_EQ(parse_address_list(std::string(100000, '<')).size(), 1U);
}

}  // namespace
}  // namespace hk::mime
