// Tests for the relaxed canonicalizations of RFC 6376 §3.4.2 (header) and §3.4.4 (body).
#include <gtest/gtest.h>

#include "lib/dkim/signer.hpp"

namespace hk::dkim {
namespace {

TEST(RelaxedHeader, Rfc6376Example) {
  // §3.4.6: "A: X" and "B : Y\t\r\n\tZ  " become "a:X" and "b:Y Z".
  EXPECT_EQ(relaxed_header("A: X"), "a:X\r\n");
  EXPECT_EQ(relaxed_header("B : Y\t\r\n\tZ  "), "b:Y Z\r\n");
}

TEST(RelaxedHeader, Cases) {
  struct Case {
    std::string in;
    std::string out;
  };
  for (const Case& c : {
           Case{"Subject:hello", "subject:hello\r\n"},
           Case{"SUBJECT:   lots   of \t space\t ", "subject:lots of space\r\n"},
           Case{"To: a@b,\r\n  c@d,\r\n\te@f", "to:a@b, c@d, e@f\r\n"},
           Case{"To: a@b,\n c@d", "to:a@b, c@d\r\n"},  // LF folding (CLI input)
           Case{"X-Empty:", "x-empty:\r\n"}, Case{"X-Empty:   \r\n\t ", "x-empty:\r\n"},
           Case{"Content-Type: text/plain;\r\n charset=\"utf-8\"",
                "content-type:text/plain; charset=\"utf-8\"\r\n"},
           Case{"Subject: Grüße  aus Köln", "subject:Grüße aus Köln\r\n"},
           Case{"Subject: a:b: c", "subject:a:b: c\r\n"},  // only the first colon separates
       }) {
    EXPECT_EQ(relaxed_header(c.in), c.out) << c.in;
  }
}

TEST(RelaxedBody, Rfc6376Example) {
  // §3.4.6: " C \r\nD \t E\r\n\r\n\r\n" becomes " C\r\nD E\r\n".
  EXPECT_EQ(relaxed_body(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
}

TEST(RelaxedBody, Cases) {
  struct Case {
    std::string in;
    std::string out;
  };
  for (const Case& c : {
           Case{"", ""},                  // empty stays empty (RFC 6376 erratum 3192)
           Case{"\r\n", ""},              // only empty lines: nothing
           Case{"\r\n\r\n \t \r\n", ""},  // blank lines of WSP count as empty
           Case{"abc", "abc\r\n"},        // a missing final CRLF is added
           Case{"abc\r\n", "abc\r\n"},
           Case{"a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n"},  // inner empty lines stay
           Case{"a\r\n \t\r\nb\r\n", "a\r\n\r\nb\r\n"},   // an inner WSP-only line is empty
           Case{"\tindented  text \t\r\n", " indented text\r\n"},
           Case{"one\ntwo\n\n", "one\r\ntwo\r\n"},  // LF line ends (CLI input)
           Case{"mixed\r\nends\nhere", "mixed\r\nends\r\nhere\r\n"},
           Case{"bare\rcr\r\n", "bare\rcr\r\n"},  // a bare CR is not a line end
           Case{"Grüße  日本\r\n", "Grüße 日本\r\n"},
       }) {
    EXPECT_EQ(relaxed_body(c.in), c.out) << c.in;
  }
}

TEST(RelaxedBody, LargeBodyMatchesLineByLine) {
  std::string body;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    body += "line " + std::to_string(i) + "  with   spaces \t\r\n";
    expected += "line " + std::to_string(i) + " with spaces\r\n";
  }
  body += "\r\n\r\n";
  EXPECT_EQ(relaxed_body(body), expected);
}

}  // namespace
}  // namespace hk::dkim
