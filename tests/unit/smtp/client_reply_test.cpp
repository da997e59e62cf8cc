// Tests for ReplyParser (assembling server replies) and parse_ehlo.
#include "lib/smtp/client_reply.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::smtp {
namespace {

using Status = ReplyParser::Status;

struct ReplyCase {
  std::vector<std::string> lines;
  Status last;
  int code;
  std::string enhanced;
  std::vector<std::string> text;
};

TEST(ReplyParser, Table) {
  const ReplyCase cases[] = {
      {{"250 OK"}, Status::Done, 250, "", {"OK"}},
      {{"250 2.1.0 Sender OK"}, Status::Done, 250, "2.1.0", {"Sender OK"}},
      {{"220 mx.example ESMTP ready"}, Status::Done, 220, "", {"mx.example ESMTP ready"}},
      {{"250"}, Status::Done, 250, "", {""}},
      {{"250 2.0.0"}, Status::Done, 250, "2.0.0", {""}},
      {{"250 5.1.1 odd"}, Status::Done, 250, "", {"5.1.1 odd"}},  // class must match
      {{"250 2.1.1000 x"}, Status::Done, 250, "", {"2.1.1000 x"}},
      {{"451 4.7.1 Try later"}, Status::Done, 451, "4.7.1", {"Try later"}},
      {{"250-mx.example Hello", "250-PIPELINING", "250 SIZE 1000"},
       Status::Done,
       250,
       "",
       {"mx.example Hello", "PIPELINING", "SIZE 1000"}},
      {{"550-5.7.1 Line one", "550 5.7.1 Line two"},
       Status::Done,
       550,
       "5.7.1",
       {"Line one", "Line two"}},
      {{"550-5.7.1 Line one", "550 Line two"},
       Status::Done,
       550,
       "5.7.1",
       {"Line one", "Line two"}},
  };
  for (const ReplyCase& c : cases) {
    ReplyParser parser;
    for (size_t i = 0; i < c.lines.size(); ++i) {
      Status s = parser.feed(c.lines[i]);
      EXPECT_EQ(s, i + 1 == c.lines.size() ? c.last : Status::More) << c.lines[i];
    }
    Reply r = parser.take();
    EXPECT_EQ(r.code, c.code) << c.lines[0];
    EXPECT_EQ(r.enhanced, c.enhanced) << c.lines[0];
    EXPECT_EQ(r.lines, c.text) << c.lines[0];
  }
}

TEST(ReplyParser, RejectsMalformedLines) {
  for (const char* bad :
       {"hello", "25", "2500 x", "199 x", "600 x", "250x", "2a0 ok", "260 x", "", " 250 ok"}) {
    ReplyParser parser;
    EXPECT_EQ(parser.feed(bad), Status::Malformed) << bad;
    EXPECT_EQ(parser.feed("250 OK"), Status::Malformed) << "stays failed until reset";
    parser.reset();
    EXPECT_EQ(parser.feed("250 OK"), Status::Done);
  }
}

TEST(ReplyParser, CodeMustNotChangeWithinAReply) {
  ReplyParser parser;
  EXPECT_EQ(parser.feed("250-first"), Status::More);
  EXPECT_EQ(parser.feed("251 second"), Status::Malformed);
}

TEST(ReplyParser, BoundsTheReplySize) {
  ReplyParser parser;
  std::string line = "250-" + std::string(100, 'x');
  Status s = Status::More;
  int fed = 0;
  while (s == Status::More && fed < 100000) {
    s = parser.feed(line);
    ++fed;
  }
  EXPECT_EQ(s, Status::Malformed);
  EXPECT_LE(static_cast<size_t>(fed) * (line.size() + 2), ReplyParser::kMaxReplyBytes + 200);
}

TEST(ReplyParser, ReadsWhatReplyWireWrites) {
  Reply sent(554, "5.6.0", "first");
  sent.lines.push_back("second");
  std::string wire = sent.wire();
  ReplyParser parser;
  Status s = Status::More;
  size_t start = 0;
  while (start < wire.size()) {
    size_t end = wire.find("\r\n", start);
    s = parser.feed(std::string_view(wire).substr(start, end - start));
    start = end + 2;
  }
  EXPECT_EQ(s, Status::Done);
  Reply got = parser.take();
  EXPECT_EQ(got.code, sent.code);
  EXPECT_EQ(got.enhanced, sent.enhanced);
  EXPECT_EQ(got.lines, sent.lines);
}

TEST(ReplyParser, TakeResetsForTheNextReply) {
  ReplyParser parser;
  ASSERT_EQ(parser.feed("220 hi"), Status::Done);
  EXPECT_EQ(parser.take().code, 220);
  ASSERT_EQ(parser.feed("250-a"), Status::More);
  ASSERT_EQ(parser.feed("250 b"), Status::Done);
  Reply r = parser.take();
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.lines.size(), 2u);
}

Reply ehlo(std::vector<std::string> lines, int code = 250) {
  Reply r;
  r.code = code;
  r.lines = std::move(lines);
  return r;
}

TEST(ParseEhlo, ReadsAdvertisedExtensions) {
  EhloInfo info =
      parse_ehlo(ehlo({"mx.example greets you", "PIPELINING", "SIZE 35882577", "8BITMIME",
                       "STARTTLS", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN", "AUTH=LOGIN",
                       "SMTPUTF8", "CHUNKING", "DSN", "REQUIRETLS"}));
  EXPECT_TRUE(info.requiretls);
  EXPECT_TRUE(info.pipelining);
  EXPECT_TRUE(info.starttls);
  EXPECT_TRUE(info.smtputf8);
  EXPECT_TRUE(info.eightbitmime);
  EXPECT_TRUE(info.enhanced_codes);
  EXPECT_TRUE(info.chunking);
  EXPECT_TRUE(info.dsn);
  EXPECT_EQ(info.size, 35882577u);
  EXPECT_EQ(info.auth, (std::vector<std::string>{"PLAIN", "LOGIN"}));
}

TEST(ParseEhlo, KeywordsAreCaseInsensitive) {
  EhloInfo info = parse_ehlo(ehlo({"mx", "pipelining", "starttls", "auth cram-md5 plain"}));
  EXPECT_TRUE(info.pipelining);
  EXPECT_TRUE(info.starttls);
  EXPECT_FALSE(info.requiretls);
  EXPECT_EQ(info.auth, (std::vector<std::string>{"CRAM-MD5", "PLAIN"}));
  EXPECT_FALSE(info.size.has_value());
}

TEST(ParseEhlo, GreetingLineIsNotAKeyword) {
  EhloInfo info = parse_ehlo(ehlo({"STARTTLS"}));
  EXPECT_FALSE(info.starttls);
}

TEST(ParseEhlo, SizeWithoutLimit) {
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE"})).size, 0u);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE 0"})).size, 0u);
  EXPECT_EQ(parse_ehlo(ehlo({"mx", "SIZE abc"})).size, 0u);
}

TEST(ParseEhlo, NegativeReplyAdvertisesNothing) {
  EhloInfo info = parse_ehlo(ehlo({"not now", "STARTTLS"}, 502));
  EXPECT_FALSE(info.starttls);
}

}  // namespace
}  // namespace hk::smtp
