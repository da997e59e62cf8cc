// Header sections, unfolding and RFC 2047 encoded words, with charsets through iconv.
#include <gtest/gtest.h>

#include <string>

#include "lib/base/utf8.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

TEST(Headers, UnfoldsAndKeepsOrderAndRaw) {
  std::vector<Header> h = parse_headers(
      "Received: from a.example\r\n\tby b.example;\r\n Mon, 7 Dec 2026 05:00:00 +0000\r\n"
      "Subject: =?UTF-8?B?SGFsbMO2?=\r\n   world\r\n"
      "X-Empty:\r\n"
      "To:   bob@example.com  \r\n"
      "\r\n"
      "Body: not a header\r\n");
  ASSERT_EQ(h.size(), 4U);
  EXPECT_EQ(h[0].name, "Received");
  EXPECT_EQ(h[0].value, "from a.example\tby b.example; Mon, 7 Dec 2026 05:00:00 +0000");
  EXPECT_EQ(h[1].name, "Subject");
  EXPECT_EQ(h[1].value, "Hallö   world");
  EXPECT_EQ(h[1].raw, "=?UTF-8?B?SGFsbMO2?=   world");
  EXPECT_EQ(h[2].name, "X-Empty");
  EXPECT_EQ(h[2].value, "");
  EXPECT_EQ(h[3].value, "bob@example.com");
}

TEST(Headers, BareLfMboxLineAndMissingEmptyLine) {
  std::vector<Header> h = parse_headers(
      "From MAILER-DAEMON Mon Dec  7 05:00:00 2026\nFrom: a@example.com\n"
      "Subject : spaced colon\nthis line is the body\nTo: not@header\n");
  ASSERT_EQ(h.size(), 2U);
  EXPECT_EQ(h[0].name, "From");
  EXPECT_EQ(h[1].name, "Subject");
  EXPECT_EQ(h[1].value, "spaced colon");
  Message m = parse("From: a@example.com\nthis line is the body\n");
  EXPECT_EQ(m.text, "this line is the body\n");
  EXPECT_FALSE(m.problems.empty());
}

TEST(Headers, ObsoleteSpaceBeforeColonIsNotAnMboxLine) {
  std::vector<Header> h = parse_headers("From : a@example.com\r\nTo: b@example.com\r\n\r\n");
  ASSERT_EQ(h.size(), 2U);
  EXPECT_EQ(h[0].name, "From");
  EXPECT_EQ(h[0].value, "a@example.com");
}

TEST(Headers, MessageHeaderLookupIsCaseInsensitive) {
  Message m = parse("SUBJECT: one\r\nsubject: two\r\n\r\nx");
  EXPECT_EQ(m.header("Subject"), "one");
  EXPECT_FALSE(m.header("From").has_value());
}

struct WordCase {
  const char* in;
  const char* out;
};

TEST(EncodedWords, Table) {
  const WordCase cases[] = {
      {"plain text", "plain text"},
      {"=?utf-8?q?caf=C3=A9?=", "café"},
      {"=?UTF-8?Q?caf=c3=a9_au_lait?=", "café au lait"},  // lower-case hex, '_' is a space
      {"=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"},
      {"=?iso-8859-1?q?this=20is=20some=20text?=", "this is some text"},
      // RFC 2047 §8 examples: whitespace between adjacent encoded words is dropped.
      {"(=?ISO-8859-1?Q?a?=)", "(a)"},
      {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
      {"=?UTF-8?B?8J+Ygg==?=", "\xF0\x9F\x98\x82"},
      // A character cut in two between two words (some mailers do): joined before conversion.
      {"=?UTF-8?B?w6k=?= =?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "é€"},
      {"=?utf-8?Q?=E2=82?= =?utf-8?Q?=AC?=", "€"},
      // Different charsets side by side.
      {"=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "éé"},
      {"=?windows-1252?Q?=80uro?=", "€uro"},
      {"=?iso-8859-15?q?=A4?=", "€"},
      {"=?ISO-8859-2?Q?=A3=F3d=BC?=", "Łódź"},
      {"=?KOI8-R?B?8NLJ18XU?=", "Привет"},
      {"=?windows-1251?B?z/Do4uXy?=", "Привет"},
      {"=?ISO-2022-JP?B?GyRCJEgkYiQkJCYbKEI=?=", "ともいう"},
      {"=?iso-2022-jp?B?GyRCLSEbKEI=?=", "①"},  // NEC row 13 as Japanese mailers send it
      {"=?iso-2022-jp?B?GyhJMRsoQg==?=", "ｱ"},  // half-width katakana (CP50221)
      {"=?iso-2022-jp?B?GyQoUS0hGyhC?=", "①"},  // JIS X 0213 escape: through iconv
      {"=?Shift_JIS?B?g2WDWINn?=", "テスト"},
      {"=?GB2312?B?1tDOxA==?=", "中文"},
      {"=?gbk?B?1tDOxA==?=", "中文"},
      {"=?big5?B?pKSk5Q==?=", "中文"},
      {"=?euc-kr?B?x9Gxub7u?=", "한국어"},
      {"=?utf-8*en?q?hi?=", "hi"},  // RFC 2231 §5 language tag
      // Unknown charsets: Latin-1, UTF-8 when valid.
      {"=?x-made-up?q?caf=E9?=", "café"},
      {"=?x-made-up?q?caf=C3=A9?=", "café"},
      {"=?../../etc/passwd?q?caf=E9?=", "café"},
      // Bad ones stay as written.
      {"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
      {"=?utf-8?b?a b?=", "=?utf-8?b?a b?="},
      {"=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="},
      {"=?utf-8?q?unterminated", "=?utf-8?q?unterminated"},
      {"=??q?x?=", "=??q?x?="},
      // Encoded words glued to text (not allowed, decoded anyway like every reader does).
      {"Re:=?utf-8?q?caf=C3=A9?=!", "Re:café!"},
      // Raw 8-bit in a header: UTF-8 kept, anything else read as windows-1252.
      {"Gr\xC3\xBC\xC3\x9F"
       "e",
       "Grüße"},
      {"Gr\xFC\xDF"
       "e",
       "Grüße"},
      // Decoded line breaks do not survive into a one-line value.
      {"=?utf-8?q?a=0D=0Ab?=", "a  b"},
      // Invalid UTF-8 inside an encoded word labelled UTF-8 never comes out invalid.
      {"=?utf-8?q?=FF=FE?=", "ÿþ"},
  };
  for (const WordCase& c : cases) {
    std::string got = decode_words(c.in);
    EXPECT_EQ(got, c.out) << c.in;
    EXPECT_TRUE(base::is_valid_utf8(got)) << c.in;
  }
}

TEST(EncodedWords, ManyFailedCandidatesStayLinear) {
  std::string hostile;
  for (int i = 0; i < 200000; ++i) {
    hostile += "=?a?q?";
  }
  std::string out = decode_words(hostile);
  EXPECT_TRUE(out == hostile);  // not EXPECT_EQ: a failure would print 1.2 MB
}

TEST(Charsets, ToUtf8) {
  EXPECT_EQ(to_utf8("caf\xE9", "ISO-8859-1"), "café");
  EXPECT_EQ(to_utf8("\x93quoted\x94", "iso-8859-1"), "“quoted”");  // as windows-1252
  EXPECT_EQ(to_utf8("\x81", "windows-1252"), "\xC2\x81");
  EXPECT_EQ(to_utf8("\xC8\x85\x93\x93\x96", "IBM037"), "Hello");  // EBCDIC: not ASCII-compatible
  EXPECT_EQ(to_utf8("\x82\xA0", "iso-2022-jp"), "あ");            // mislabelled Shift_JIS
  EXPECT_EQ(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r"), "Привет");
  EXPECT_EQ(to_utf8("\xFF\xFE", "utf-8"), "ÿþ");
  EXPECT_EQ(to_utf8("\x82\xA0\x82", "shift_jis"), "あ\xEF\xBF\xBD");  // cut: U+FFFD
  EXPECT_EQ(to_utf8("+ZeVnLIqe-", "utf-7"), "日本語");
  EXPECT_EQ(to_utf8("caf\xC3\xA9", ""), "café");
  EXPECT_EQ(to_utf8("caf\xE9", "us-ascii"), "café");
}

}  // namespace
}  // namespace hk::mime
