// Tests for DataEncoder (line endings, dot-stuffing, the terminating dot) and reply_text.
#include "lib/smtp_client/data_encoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/smtp_client/smtp_client.hpp"

namespace hk::delivery {
namespace {

struct EncodeCase {
  std::string in;
  std::string wire;
};

const std::vector<EncodeCase>& encode_cases() {
  static const std::vector<EncodeCase> cases = {
      {"", ".\r\n"},
      {"a\r\n", "a\r\n.\r\n"},
      {"a", "a\r\n.\r\n"},
      {"a\nb\n", "a\r\nb\r\n.\r\n"},
      {"a\rb\r", "a\r\nb\r\n.\r\n"},
      {".\r\n", "..\r\n.\r\n"},
      {".hidden\r\n..two\r\n", "..hidden\r\n...two\r\n.\r\n"},
      {"x.\r\n.y", "x.\r\n..y\r\n.\r\n"},
      {"a\r\n\r\n.\r\nb", "a\r\n\r\n..\r\nb\r\n.\r\n"},
      {"a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"},
      {"\n.", "\r\n..\r\n.\r\n"},
  };
  return cases;
}

TEST(DataEncoder, WholeMessage) {
  for (size_t i = 0; i < encode_cases().size(); ++i) {
    const EncodeCase& c = encode_cases()[i];
    EXPECT_EQ(encode_data(c.in), c.wire) << "case " << i;
  }
}

// Every split point of every case gives the same bytes: CR LF pairs and line starts may fall on
// a chunk boundary.
TEST(DataEncoder, AnySplitGivesTheSameBytes) {
  for (size_t i = 0; i < encode_cases().size(); ++i) {
    const EncodeCase& c = encode_cases()[i];
    for (size_t a = 0; a <= c.in.size(); ++a) {
      for (size_t b = a; b <= c.in.size(); ++b) {
        DataEncoder enc;
        std::string out;
        enc.encode(std::string_view(c.in).substr(0, a), out);
        enc.encode(std::string_view(c.in).substr(a, b - a), out);
        enc.encode(std::string_view(c.in).substr(b), out);
        enc.finish(out);
        EXPECT_EQ(out, c.wire) << "case " << i << " split " << a << "," << b;
      }
    }
  }
}

struct ReplyCase {
  smtp::Reply reply;
  std::string text;
};

TEST(ReplyText, Table) {
  smtp::Reply multi(250, "", "mx.example");
  multi.lines.push_back("PIPELINING");
  smtp::Reply bare(250, "", "");
  smtp::Reply gmail(550, "5.1.1", "The email account that you tried to reach does not exist.");
  gmail.lines.push_back("Please try double-checking the recipient's address.");
  const ReplyCase cases[] = {
      {smtp::Reply(550, "5.1.1", "no such user"), "550 5.1.1 no such user"},
      {smtp::Reply(220, "", "mx.test ESMTP"), "220 mx.test ESMTP"},
      {multi, "250 mx.example PIPELINING"},
      {bare, "250"},
      {gmail,
       "550 5.1.1 The email account that you tried to reach does not exist. Please try "
       "double-checking the recipient's address."},
  };
  for (const ReplyCase& c : cases) {
    EXPECT_EQ(reply_text(c.reply), c.text);
  }
}

}  // namespace
}  // namespace hk::delivery
