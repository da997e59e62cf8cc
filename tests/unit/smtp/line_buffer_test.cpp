// Tests for LineBuffer: line splitting, overlong lines, bounded memory, take_rest.
#include "lib/smtp/line_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::smtp {
namespace {

std::vector<Line> drain(LineBuffer& buf) {
  std::vector<Line> out;
  while (std::optional<Line> line = buf.next()) {
    out.push_back(*line);
  }
  return out;
}

struct SplitCase {
  std::string input;
  std::vector<std::string> lines;
  std::string rest;
};

TEST(LineBuffer, SplitsLines) {
  const SplitCase cases[] = {
      {"HELO a\r\nMAIL FROM:<>\r\n", {"HELO a", "MAIL FROM:<>"}, ""},
      {"NOOP\n", {"NOOP"}, ""},
      {"\r\n", {""}, ""},
      {"a\rb\r\n", {"a\rb"}, ""},
      {"QUIT\r\nHEL", {"QUIT"}, "HEL"},
      {"NOOP\r", {}, "NOOP\r"},
      {"", {}, ""},
  };
  for (const SplitCase& c : cases) {
    LineBuffer buf;
    buf.append(c.input);
    std::vector<Line> got = drain(buf);
    ASSERT_EQ(got.size(), c.lines.size()) << c.input;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].text, c.lines[i]);
      EXPECT_FALSE(got[i].too_long);
    }
    EXPECT_EQ(buf.buffered(), c.rest.size());
    EXPECT_EQ(buf.take_rest(), c.rest);
    EXPECT_TRUE(buf.empty());
  }
}

TEST(LineBuffer, EveryByteSplitGivesTheSameLines) {
  const std::string input = "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\nDATA\r\n";
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    LineBuffer buf;
    buf.append(input.substr(0, cut));
    std::vector<Line> got = drain(buf);
    buf.append(input.substr(cut));
    std::vector<Line> more = drain(buf);
    got.insert(got.end(), more.begin(), more.end());
    ASSERT_EQ(got.size(), 4u) << cut;
    EXPECT_EQ(got[0].text, "EHLO x");
    EXPECT_EQ(got[1].text, "MAIL FROM:<a@b>");
    EXPECT_EQ(got[2].text, "RCPT TO:<c@d>");
    EXPECT_EQ(got[3].text, "DATA");
  }
}

TEST(LineBuffer, LimitCountsTheCrlf) {
  LineBuffer buf(16);
  buf.append(std::string(14, 'a') + "\r\n");  // 16 octets with CRLF: allowed
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->too_long);
  EXPECT_EQ(line->text.size(), 14u);

  buf.append(std::string(15, 'b') + "\r\n");  // 17 octets: too long
  line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->too_long);
  EXPECT_EQ(line->text, std::string(14, 'b'));

  buf.append(std::string(14, 'c') + "\r");  // CR may be the start of the CRLF: wait
  EXPECT_FALSE(buf.next());
  buf.append("\n");
  line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->too_long);
}

TEST(LineBuffer, OverlongLineThenNormalLine) {
  LineBuffer buf(16);
  buf.append(std::string(20, 'A'));
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->too_long);
  EXPECT_EQ(line->text, std::string(14, 'A'));
  EXPECT_EQ(buf.buffered(), 0u);
  EXPECT_FALSE(buf.next());  // reported once only

  buf.append(std::string(100, 'A'));
  EXPECT_EQ(buf.buffered(), 0u);
  EXPECT_FALSE(buf.next());
  buf.append("AAAA\r\nNOOP\r\n");
  line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->too_long);
  EXPECT_EQ(line->text, "NOOP");
  EXPECT_FALSE(buf.next());
}

TEST(LineBuffer, OverlongCompleteLineInOneChunk) {
  LineBuffer buf(16);
  buf.append(std::string(30, 'x') + "\r\nQUIT\r\n");
  std::vector<Line> got = drain(buf);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].too_long);
  EXPECT_FALSE(got[1].too_long);
  EXPECT_EQ(got[1].text, "QUIT");
}

TEST(LineBuffer, MemoryStaysBoundedWithoutLineEnds) {
  LineBuffer buf;  // 1000
  const std::string chunk(1024, 'z');
  int reported = 0;
  for (int i = 0; i < 4096; ++i) {  // 4 MiB, no LF
    buf.append(chunk);
    EXPECT_LE(buf.buffered(), LineBuffer::kDefaultMax + chunk.size());
    while (std::optional<Line> line = buf.next()) {
      EXPECT_TRUE(line->too_long);
      ++reported;
    }
  }
  EXPECT_EQ(reported, 1);
  buf.append("\nRSET\r\n");
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "RSET");
}

TEST(LineBuffer, TakeRestHandsPipelinedBytesOver) {
  LineBuffer buf;
  buf.append("DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "DATA");
  EXPECT_EQ(buf.take_rest(), "Subject: x\r\n\r\nbody\r\n.\r\n");
  EXPECT_TRUE(buf.empty());
  EXPECT_FALSE(buf.next());
}

TEST(LineBuffer, TakeRestDiscardsCommandsInjectedBeforeStartTls) {
  LineBuffer buf;
  buf.append("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x>\r\n");
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "STARTTLS");
  buf.take_rest();  // what the server does before the handshake
  EXPECT_FALSE(buf.next());
  buf.append("EHLO after-tls\r\n");
  line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "EHLO after-tls");
}

TEST(LineBuffer, TakeRestEndsDiscardMode) {
  LineBuffer buf(16);
  buf.append(std::string(40, 'q'));
  ASSERT_TRUE(buf.next());
  buf.take_rest();
  buf.append("NOOP\r\n");
  std::optional<Line> line = buf.next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "NOOP");
}

TEST(LineBuffer, TooLongReply) {
  EXPECT_EQ(line_too_long_reply().wire(), "500 5.5.2 Line too long\r\n");
}

}  // namespace
}  // namespace hk::smtp
