// Hostile shapes: deep nesting, thousands of parts, huge headers. Each must finish quickly,
// within Limits, with the problems noted, and never crash or throw.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "lib/base/utf8.hpp"
#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

// Generous: a linear reader does each of these in milliseconds, a quadratic one in minutes.
constexpr auto kBudget = std::chrono::seconds(3);

template <typename F>
void within_budget(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  EXPECT_LT(std::chrono::steady_clock::now() - start, kBudget);
}

std::string nested(int levels, bool close) {
  std::string msg;
  for (int i = 0; i < levels; ++i) {
    msg += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  }
  msg += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  if (close) {
    for (int i = levels - 1; i >= 0; --i) {
      msg += "--b" + std::to_string(i) + "--\r\n";
    }
  }
  return msg;
}

TEST(Limits, NestingWithinTheLimitIsRead) {
  Message m = parse(nested(20, true));
  EXPECT_EQ(m.text, "deep");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front();
}

TEST(Limits, DeeperNestingIsKeptOpaque) {
  Message m = parse(nested(25, true));
  EXPECT_EQ(m.text, "");
  ASSERT_EQ(m.attachments.size(), 1U);
  const Part& opaque = m.attachments[0];
  EXPECT_EQ(opaque.content_type, "multipart/mixed");
  EXPECT_EQ(opaque.part_id, "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1");  // 20 levels
  EXPECT_NE(opaque.data.find("deep"), std::string::npos);
  ASSERT_FALSE(m.problems.empty());
  EXPECT_NE(m.problems[0].find("deeper than 20"), std::string::npos);

  Limits shallow;
  shallow.max_depth = 2;
  Message s = parse(nested(5, true), shallow);
  ASSERT_EQ(s.attachments.size(), 1U);
  EXPECT_EQ(s.attachments[0].part_id, "1.1");
}

TEST(Limits, VeryDeepNestingAndHugeMaxDepth) {
  // 20,000 levels, unclosed, with a caller that asks for no depth limit: the walk stays capped.
  std::string msg = nested(20000, false);
  Limits unlimited;
  unlimited.max_depth = static_cast<size_t>(-1);
  within_budget([&] {
    Message m = parse(msg, unlimited);
    EXPECT_FALSE(m.problems.empty());
    EXPECT_LE(m.problems.size(), 50U);
  });
}

TEST(Limits, ThousandsOfParts) {
  std::string msg = "Content-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (int i = 0; i < 100000; ++i) {
    msg += "--x\r\nContent-Type: application/octet-stream\r\n\r\n" + std::to_string(i) + "\r\n";
  }
  msg += "--x--\r\n";
  within_budget([&] {
    Message m = parse(msg);
    EXPECT_EQ(m.attachments.size(), 1000U);
    EXPECT_EQ(m.attachments.back().part_id, "1000");
    ASSERT_FALSE(m.problems.empty());
    EXPECT_NE(m.problems.back().find("more than 1000 parts"), std::string::npos);
  });
  Limits few;
  few.max_parts = 3;
  Message m = parse(msg, few);
  EXPECT_EQ(m.attachments.size(), 3U);
}

TEST(Limits, ManyEmptyDelimitersAndNestedMultipartsPerLevel) {
  // Boundary lines only, and many small multiparts each holding many more: the node count is
  // bounded as well as the leaves.
  std::string msg = "Content-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (int i = 0; i < 200000; ++i) {
    msg += "--x\r\n";
  }
  within_budget(
      [&] { EXPECT_LE(parse(msg).attachments.size() + parse(msg).inlines.size(), 1000U); });

  std::string inner = "Content-Type: multipart/mixed; boundary=y\r\n\r\n";
  for (int i = 0; i < 100; ++i) {
    inner += "--y\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\r\nt\r\n--z--\r\n";
  }
  std::string outer = "Content-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (int i = 0; i < 1000; ++i) {
    outer += "--x\r\n" + inner;
  }
  within_budget([&] {
    Message m = parse(outer);
    EXPECT_LE(m.attachments.size() + m.inlines.size(), 1000U);
  });
}

TEST(Limits, HugeHeaders) {
  std::string msg = "Subject: ";
  for (int i = 0; i < 200000; ++i) {
    msg += "=?utf-8?q?caf=C3=A9?= ";
  }
  msg += "\r\nTo: ";
  for (int i = 0; i < 50000; ++i) {
    msg += "\"Name " + std::to_string(i) + "\" <a" + std::to_string(i) + "@example.com>,\r\n ";
  }
  msg += "\r\nX-Folded: a";
  for (int i = 0; i < 200000; ++i) {
    msg += "\r\n b";
  }
  msg += "\r\n" + std::string(1000000, 'X') + ": y\r\n\r\nbody";
  within_budget([&] {
    Message m = parse(msg);
    ASSERT_EQ(m.headers.size(), 4U);
    EXPECT_EQ(m.headers[0].value.size(), 200000U * 5);  // "café" joined: words are adjacent
    EXPECT_EQ(parse_address_list(m.headers[1].raw).size(), 50000U);
    EXPECT_EQ(m.headers[2].value.size(), 1U + 200000U * 2);
    EXPECT_EQ(m.text, "body");
    EXPECT_FALSE(snippet(m).empty());
  });
}

TEST(Limits, BinaryGarbageNeverBreaksUtf8) {
  std::string garbage;
  unsigned x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245 + 12345;
    garbage += static_cast<char>(x >> 16);
  }
  for (const char* ct : {"text/plain; charset=utf-8", "text/plain; charset=iso-2022-jp",
                         "text/plain; charset=shift_jis", "text/html; charset=gb2312",
                         "text/plain; charset=utf-7", "text/plain; charset=utf-16"}) {
    within_budget([&] {
      Message m = parse(std::string("Subject: ") + garbage.substr(0, 5000) +
                        "\r\nContent-Type: " + ct + "\r\n\r\n" + garbage);
      EXPECT_TRUE(base::is_valid_utf8(m.text)) << ct;
      EXPECT_TRUE(base::is_valid_utf8(m.html)) << ct;
      EXPECT_TRUE(base::is_valid_utf8(m.headers[0].value)) << ct;
      EXPECT_TRUE(base::is_valid_utf8(snippet(m))) << ct;
    });
  }
}

}  // namespace
}  // namespace hk::mime
