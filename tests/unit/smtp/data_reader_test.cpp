// Tests for DataReader: terminator, dot-stuffing, bare CR/LF (SMTP smuggling), size limit,
// Received counting, and identical results for every way the input can be split.
#include "lib/smtp/data_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::smtp {
namespace {

using Error = DataReader::Error;

struct Outcome {
  size_t consumed = 0;
  bool done = false;
  Error error = Error::None;
  std::string body;
  int received = 0;
  uint64_t size = 0;

  bool operator==(const Outcome&) const = default;
};

// Feeds `pieces` in order the way a session does: once the reader is done, the rest of the
// piece and all later pieces belong to the next command.
Outcome run(const std::vector<std::string>& pieces, uint64_t max = 1 << 20) {
  DataReader reader(max);
  Outcome out;
  for (const std::string& piece : pieces) {
    if (reader.done()) {
      break;
    }
    out.consumed += reader.feed(piece);
  }
  out.done = reader.done();
  out.error = reader.error();
  out.body = reader.body();
  out.received = reader.received_count();
  out.size = reader.size();
  return out;
}

struct DataCase {
  std::string name;
  std::string input;
  bool done;
  size_t consumed;  // when done; kWhole: all of the input
  Error error;
  std::string body;  // checked when error == None; so far, when not done
};

const std::string kAll;  // body not compared (the message is refused anyway)
constexpr size_t kWhole = std::string::npos;

std::vector<DataCase> cases() {
  return {
      {"empty body", ".\r\n", true, 3, Error::None, ""},
      {"simple", "Subject: hi\r\n\r\nbody\r\n.\r\n", true, 24, Error::None,
       "Subject: hi\r\n\r\nbody\r\n"},
      {"one empty line", "\r\n.\r\n", true, 5, Error::None, "\r\n"},
      {"dot stuffed", "a\r\n..b\r\n.\r\n", true, 11, Error::None, "a\r\n.b\r\n"},
      {"lone dot line stuffed", "a\r\n..\r\n.\r\n", true, 10, Error::None, "a\r\n.\r\n"},
      {"three dots", "a\r\n...\r\n.\r\n", true, 11, Error::None, "a\r\n..\r\n"},
      {"unstuffed leading dot", "a\r\n.b\r\n.\r\n", true, 10, Error::None, "a\r\nb\r\n"},
      {"dot inside line", "a.b\r\nx.\r\n.\r\n", true, 12, Error::None, "a.b\r\nx.\r\n"},
      {"pipelined QUIT", "x\r\n.\r\nQUIT\r\n", true, 6, Error::None, "x\r\n"},
      {"pipelined after empty", ".\r\nMAIL FROM:<>\r\n", true, 3, Error::None, ""},
      {"no final CRLF yet", "abc", false, 0, Error::None, "abc"},
      {"dot without CRLF", "a\r\n.", false, 0, Error::None, "a\r\n"},
      {"bare LF dot bare LF", "a\n.\n", false, 0, Error::BareLineEnding, kAll},
      {"bare CR dot bare CR", "a\r.\r", false, 0, Error::BareLineEnding, kAll},
      {"bare LF dot CRLF", "a\n.\r\n", false, 0, Error::BareLineEnding, kAll},
      {"CRLF dot bare LF", "a\r\n.\n", false, 0, Error::BareLineEnding, kAll},
      {"CRLF dot bare CR", "a\r\n.\rx", false, 0, Error::BareLineEnding, kAll},
      {"bare CR in line", "a\rb\r\n.\r\n", true, 8, Error::BareLineEnding, kAll},
      {"bare LF in line", "a\nb\r\n.\r\n", true, 8, Error::BareLineEnding, kAll},
      {"bare LF first", "\n.\r\n", false, 0, Error::BareLineEnding, kAll},
      {"smuggled then real end", "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", true, 24, Error::BareLineEnding,
       kAll},
      {"smuggled CR variant then end", "a\r.\rRSET\r\n.\r\n", true, 13, Error::BareLineEnding,
       kAll},
      {"dot CR CR LF", "a\r\n.\r\r\n.\r\n", true, 10, Error::BareLineEnding, kAll},
      {"CR CR LF", "a\r\r\n.\r\n", true, 7, Error::BareLineEnding, kAll},
      {"NUL in line", std::string("a\0b\r\n.\r\n", 8), true, 8, Error::NulByte, kAll},
      {"NUL alone on a line", std::string("a\r\n\0\r\nb\r\n.\r\n", 12), true, 12, Error::NulByte,
       kAll},
      {"NUL after dot", std::string("a\r\n.\0\r\n.\r\n", 10), true, 10, Error::NulByte, kAll},
      {"NUL then bare LF", std::string("\0\n.\r\n", 5), false, 0, Error::NulByte, kAll},
      {"received lines",
       "Received: from a\r\nreceived :x\r\nRECEIVED:y\r\n X-Received: no\r\n"
       "X-Received: no\r\nSubject: s\r\n\r\nReceived: in body\r\n.\r\n",
       true, kWhole, Error::None,
       "Received: from a\r\nreceived :x\r\nRECEIVED:y\r\n X-Received: no\r\nX-Received: no\r\n"
       "Subject: s\r\n\r\nReceived: in body\r\n"},
  };
}

TEST(DataReader, Table) {
  for (const DataCase& c : cases()) {
    Outcome o = run({c.input});
    EXPECT_EQ(o.done, c.done) << c.name;
    EXPECT_EQ(o.error, c.error) << c.name;
    if (c.done) {
      EXPECT_EQ(o.consumed, c.consumed == kWhole ? c.input.size() : c.consumed) << c.name;
    } else {
      EXPECT_EQ(o.consumed, c.input.size()) << c.name;
    }
    if (c.error == Error::None) {
      EXPECT_EQ(o.body, c.body) << c.name;
      EXPECT_EQ(o.size, c.body.size()) << c.name;
    }
  }
}

TEST(DataReader, EverySplitPositionGivesTheSameResult) {
  for (const DataCase& c : cases()) {
    const Outcome whole = run({c.input});
    const size_t n = c.input.size();
    // Byte by byte.
    std::vector<std::string> bytes;
    for (char ch : c.input) {
      bytes.emplace_back(1, ch);
    }
    EXPECT_EQ(run(bytes), whole) << c.name << " byte by byte";
    // Every split into two and three pieces.
    for (size_t i = 0; i <= n; ++i) {
      EXPECT_EQ(run({c.input.substr(0, i), c.input.substr(i)}), whole) << c.name << " @" << i;
      for (size_t j = i; j <= n; ++j) {
        ASSERT_EQ(run({c.input.substr(0, i), c.input.substr(i, j - i), c.input.substr(j)}), whole)
            << c.name << " @" << i << "," << j;
      }
    }
  }
}

TEST(DataReader, BodyHasOnlyCrlfLineEndings) {
  for (const DataCase& c : cases()) {
    Outcome o = run({c.input});
    if (!o.done || o.error != Error::None) {
      continue;
    }
    for (size_t i = 0; i < o.body.size(); ++i) {
      if (o.body[i] == '\r') {
        ASSERT_TRUE(i + 1 < o.body.size() && o.body[i + 1] == '\n') << c.name;
      } else if (o.body[i] == '\n') {
        ASSERT_TRUE(i > 0 && o.body[i - 1] == '\r') << c.name;
      }
    }
  }
}

TEST(DataReader, CountsReceivedOnlyInTheHeader) {
  Outcome o =
      run({"Received: from a\r\nreceived :x\r\nRECEIVED:y\r\n X-Received: no\r\n"
           "Received-SPF: pass\r\n\r\nReceived: in body\r\n.\r\n"});
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.received, 3);
  o = run({"Subject: none\r\n\r\n.\r\n"});
  EXPECT_EQ(o.received, 0);
  std::string many;
  for (int i = 0; i < 150; ++i) {
    many += "Received: from hop" + std::to_string(i) + "\r\n";
  }
  o = run({many + "\r\n.\r\n"});
  EXPECT_EQ(o.received, 150);
}

TEST(DataReader, AtTheLimitIsAcceptedOneOverIsNot) {
  Outcome o = run({"abc\r\n.\r\n"}, 5);
  EXPECT_EQ(o.error, Error::None);
  EXPECT_EQ(o.body, "abc\r\n");
  o = run({"abcd\r\n.\r\n"}, 5);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.error, Error::TooBig);
  EXPECT_EQ(o.size, 6u);
  EXPECT_EQ(o.consumed, 9u);
}

TEST(DataReader, TooBigKeepsMemoryBoundedAndStaysInStep) {
  const uint64_t max = 4096;
  DataReader reader(max);
  const std::string line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs\r\n";
  uint64_t fed = 0;
  for (int i = 0; i < 100000; ++i) {  // ~6.8 MB
    ASSERT_EQ(reader.feed(line), line.size());
    fed += line.size();
    ASSERT_LE(reader.body().capacity(), 2 * max + 64);
  }
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.error(), Error::TooBig);
  EXPECT_EQ(reader.size(), fed);
  EXPECT_EQ(reader.feed(".\r\nQUIT\r\n"), 3u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.error(), Error::TooBig);
  EXPECT_TRUE(reader.body().empty());
}

TEST(DataReader, FeedAfterDoneConsumesNothing) {
  DataReader reader(100);
  EXPECT_EQ(reader.feed(".\r\n"), 3u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.feed("more\r\n.\r\n"), 0u);
  EXPECT_EQ(reader.body(), "");
}

TEST(DataReader, FirstErrorWins) {
  Outcome o = run({"a\nb" + std::string(100, 'x') + "\r\n.\r\n"}, 10);
  EXPECT_EQ(o.error, Error::BareLineEnding);
  EXPECT_TRUE(o.done);
}

// Found by the data_reader fuzz target: a NUL past the size limit, in the same piece as the bytes
// that passed the limit, was reported before the limit when the piece came whole. The first error
// (and every later NUL of the piece) must not depend on how the input is cut.
TEST(DataReader, SizeLimitBeforeNulWinsHoweverTheInputIsCut) {
  const std::string input("RS\x01\0\0\0.\r\n\xd8x\0\r\n.\r\n", 17);
  const Outcome whole = run({input}, 1);
  EXPECT_EQ(whole.error, Error::TooBig);
  EXPECT_TRUE(whole.done);
  EXPECT_EQ(whole.size, 14u);  // every octet before the final dot line, counted once
  for (size_t i = 0; i <= input.size(); ++i) {
    EXPECT_EQ(run({input.substr(0, i), input.substr(i)}, 1), whole) << "@" << i;
  }
  const Outcome nul_first = run({std::string("\0RS\r\n.\r\n", 9)}, 1);
  EXPECT_EQ(nul_first.error, Error::NulByte);
}

TEST(DataReader, NulIsRefusedAndNothingIsKept) {
  DataReader reader(1 << 20);
  EXPECT_EQ(reader.feed("Subject: x\r\n\r\nbefore\r\n"), 22u);
  EXPECT_FALSE(reader.body().empty());
  std::string nul("x\0y\r\nafter\r\n", 12);
  EXPECT_EQ(reader.feed(nul), nul.size());
  EXPECT_EQ(reader.error(), Error::NulByte);
  EXPECT_TRUE(reader.body().empty());
  EXPECT_EQ(reader.feed("more\r\n.\r\nQUIT\r\n"), 9u);
  EXPECT_TRUE(reader.done());
  EXPECT_TRUE(reader.body().empty());
  EXPECT_EQ(reader.size(), 22u + 12u + 6u);
}

TEST(DataReader, RepliesCiteTheRightCodes) {
  Reply bare = reply_for(Error::BareLineEnding);
  EXPECT_EQ(bare.code, 554);
  EXPECT_EQ(bare.enhanced, "5.6.0");
  Reply nul = reply_for(Error::NulByte);
  EXPECT_EQ(nul.code, 554);
  EXPECT_EQ(nul.enhanced, "5.6.0");
  Reply big = reply_for(Error::TooBig);
  EXPECT_EQ(big.code, 552);
  EXPECT_EQ(big.enhanced, "5.3.4");
  EXPECT_TRUE(reply_for(Error::None).positive());
}

}  // namespace
}  // namespace hk::smtp
