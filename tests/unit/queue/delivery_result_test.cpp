// Tests for the one-line form of a reply: how DeliveryResult's parts are written for logs, DSNs
// and the state sidecar, and how a stored line is split back into them.
#include "lib/queue/delivery_result.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::queue {
namespace {

TEST(ReplyLine, JoinsThePartsThatArePresent) {
  struct Case {
    int code;
    std::string enhanced;
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {451, "4.7.1", "greylisted", "451 4.7.1 greylisted"},
      {550, "", "no such user", "550 no such user"},
      {250, "2.0.0", "", "250 2.0.0"},
      {250, "", "", "250"},
      {0, "", "connection refused by 192.0.2.1:25", "connection refused by 192.0.2.1:25"},
      {0, "5.2.2", "mailbox full", "5.2.2 mailbox full"},
      {0, "", "", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(reply_line(c.code, c.enhanced, c.text), c.want) << c.want;
    DeliveryResult r{DeliveryResult::Status::Transient, c.code, c.enhanced, c.text};
    EXPECT_EQ(r.line(), c.want);
  }
}

// The grammar the DSN builder used on stored replies before the parts were kept apart: a code
// "2xx"-"5xx", then an RFC 3463 code of the same class, each ending at a space or the end.
TEST(ReplyLine, SplitsStoredLines) {
  struct Case {
    std::string line;
    int code;
    std::string enhanced;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"550 5.1.1 no such user", 550, "5.1.1", "no such user"},
      // A continuation line's form, which no version writes, stays text and so reads unchanged.
      {"550-5.1.1 no such user", 0, "", "550-5.1.1 no such user"},
      {"554 5.7.123 policy", 554, "5.7.123", "policy"},
      {"550 no such user", 550, "", "no such user"},
      {"550", 550, "", ""},
      {"250 2.0.0", 250, "2.0.0", ""},
      {"550 4.1.1 class disagrees", 550, "", "4.1.1 class disagrees"},
      {"550 5.1.1234 too many digits", 550, "", "5.1.1234 too many digits"},
      {"550 5.1 too few parts", 550, "", "5.1 too few parts"},
      {"550 5.1.1x glued", 550, "", "5.1.1x glued"},
      {"5.2.2 mailbox full", 0, "5.2.2", "mailbox full"},
      {"5501 5.1.1 four digits", 0, "", "5501 5.1.1 four digits"},
      {"650 6.1.1 no such class", 0, "", "650 6.1.1 no such class"},
      {"connection refused", 0, "", "connection refused"},
      {"451 4.7.1 try\r\nlater", 451, "4.7.1", "try\r\nlater"},
      {"", 0, "", ""},
      // A space at the end belongs to the text, so that the line comes back as it was.
      {"550 ", 0, "", "550 "},
      {"550 5.1.1 ", 550, "", "5.1.1 "},
      {"550  two spaces", 550, "", " two spaces"},
  };
  for (const Case& c : cases) {
    ReplyParts p = split_reply_line(c.line);
    EXPECT_EQ(p.code, c.code) << c.line;
    EXPECT_EQ(p.enhanced, c.enhanced) << c.line;
    EXPECT_EQ(p.text, c.text) << c.line;
  }
}

// Every stored line, whatever it holds, is written back exactly as it was read (and so shows the
// same in `hikyaku-util queue show`).
TEST(ReplyLine, LinesComeBackExactly) {
  const std::vector<std::string> lines = {
      "550 5.1.1 no such user",
      "550-5.1.1 x",
      "550",
      "550 ",
      "550  x",
      "550 5.1.1",
      "550 5.1.1 ",
      "5.1.1",
      "5.1.1 ",
      "5.1.1 x",
      "550 4.1.1 x",
      " ",
      "",
      "421 4.4.2 a\r\nb \xff",
      "999 x",
      "550 5.1.1  x",
      "2",
  };
  for (const std::string& line : lines) {
    ReplyParts p = split_reply_line(line);
    EXPECT_EQ(reply_line(p.code, p.enhanced, p.text), line) << line;
  }
}

// What the producers make (a reply from the SMTP client, our own codes, our own texts) survives
// a trip through the one-line form unchanged.
TEST(ReplyLine, RoundTrips) {
  const std::vector<ReplyParts> parts = {
      {250, "2.0.0", "OK queued as 1234"},
      {550, "5.1.1", "no such user"},
      {421, "", "service closing"},
      {550, "", "4.1.1 class disagrees"},
      {554, "", ""},
      {0, "", "timeout waiting for greeting from 127.0.0.1:25"},
      {451, "4.3.0", "no result from the courier"},
  };
  for (const ReplyParts& p : parts) {
    std::string line = reply_line(p.code, p.enhanced, p.text);
    ReplyParts back = split_reply_line(line);
    EXPECT_EQ(back.code, p.code) << line;
    EXPECT_EQ(back.enhanced, p.enhanced) << line;
    EXPECT_EQ(back.text, p.text) << line;
    EXPECT_EQ(reply_line(back.code, back.enhanced, back.text), line);
  }
}

}  // namespace
}  // namespace hk::queue
