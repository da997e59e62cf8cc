// Tests for the relaxed canonicalizations of RFC 6376 §3.4.2 (header) and §3.4.4 (body).
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// The streaming form: every case, split at every position (and byte by byte), gives the same
// canonical body as the whole; a CR, CRLF or run of WSP split across pieces changes nothing.
TEST(BodyCanon, EverySplitGivesTheWholeResult) {
  const std::vector<std::string> inputs = {"",
                                           "\r\n",
                                           "abc",
                                           " C \r\nD \t E\r\n\r\n\r\n",
                                           "a\r\n \t\r\nb\r\n\r\n",
                                           "\tindented  text \t\r\n",
                                           "one\ntwo\n\n",
                                           "bare\rcr\r\n",
                                           "end with cr\r",
                                           "x  \t",
                                           "a\r\r\nb",
                                           "\r\n\r\nlate text\r\n"};
  for (const std::string& in : inputs) {
    const std::string whole = relaxed_body(in);
    for (size_t cut = 0; cut <= in.size(); ++cut) {
      BodyCanon canon;
      std::string out;
      canon.feed(std::string_view(in).substr(0, cut), out);
      canon.feed(std::string_view(in).substr(cut), out);
      canon.finish(out);
      EXPECT_EQ(out, whole) << "input " << in << " cut at " << cut;
    }
    BodyCanon canon;
    std::string out;
    for (char c : in) {
      canon.feed(std::string_view(&c, 1), out);
    }
    canon.finish(out);
    EXPECT_EQ(out, whole) << "byte by byte: " << in;
  }
}

// The bh= of a body fed in pieces is the bh= of the body signed whole.
TEST(BodyHasher, PiecesGiveTheSignaturesBodyHash) {
  DkimSigner signer(1700000000);
  std::string body;
  for (int i = 0; i < 20000; ++i) {
    body += "line " + std::to_string(i) + "  with   spaces \t\r\n";
  }
  std::string error;
  BodyHasher whole = signer.body_hasher();
  whole.update(body);
  auto a = whole.finish(error);
  BodyHasher pieces = signer.body_hasher();
  for (size_t at = 0; at < body.size(); at += 4093) {
    pieces.update(std::string_view(body).substr(at, 4093));
  }
  auto b = pieces.finish(error);
  ASSERT_TRUE(a && b) << error;
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 44u);  // base64 of 32 bytes
}

}  // namespace
}  // namespace hk::dkim
