// Tests for MAIL FROM / RCPT TO parameter parsing.
#include "lib/smtp/params.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace hk::smtp {
namespace {

struct MailCase {
  std::string arg;
  int code;  // 0: accepted
  std::string enhanced;
};

class MailFromTest : public ::testing::TestWithParam<MailCase> {};

TEST_P(MailFromTest, AcceptsOrRefuses) {
  const MailCase& c = GetParam();
  MailResult r = parse_mail_from(c.arg);
  if (c.code == 0) {
    EXPECT_TRUE(r.ok) << c.arg << " -> " << r.error.wire();
  } else {
    ASSERT_FALSE(r.ok) << c.arg;
    EXPECT_EQ(r.error.code, c.code) << c.arg << " -> " << r.error.wire();
    EXPECT_EQ(r.error.enhanced, c.enhanced) << c.arg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, MailFromTest,
    ::testing::Values(
        MailCase{"<a@b.example>", 0, ""}, MailCase{"<>", 0, ""}, MailCase{"<> SIZE=10", 0, ""},
        MailCase{"<a@b.example>  SIZE=10   BODY=8BITMIME  ", 0, ""},
        MailCase{"<a@b.example> size=0 body=7bit smtputf8", 0, ""},
        MailCase{"<a@b.example> SIZE=99999999999999999999", 0, ""},
        MailCase{"<a@b.example> SIZE=", 501, "5.5.4"}, MailCase{"<a@b.example> SIZE", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=12x", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=-1", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=123456789012345678901", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=1 SIZE=2", 501, "5.5.4"},
        MailCase{"<a@b.example> BODY=BINARYMIME", 555, "5.5.4"},
        MailCase{"<a@b.example> BODY=9BIT", 501, "5.5.4"},
        MailCase{"<a@b.example> BODY", 501, "5.5.4"},
        MailCase{"<a@b.example> SMTPUTF8=yes", 501, "5.5.4"},
        MailCase{"<a@b.example> FOO=bar", 555, "5.5.4"},
        MailCase{"<a@b.example> X-UNKNOWN", 555, "5.5.4"},
        MailCase{"<a@b.example> =x", 501, "5.5.4"}, MailCase{"<a@b.example> -X=1", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=1=2", 501, "5.5.4"},
        MailCase{"<a@b.example> SIZE=\x01", 501, "5.5.4"},
        MailCase{"<a@b.example>SIZE=10", 501, "5.5.4"}, MailCase{"<a@b.example>x", 501, "5.5.4"},
        MailCase{"a@b.example", 501, "5.1.7"}, MailCase{"<a@b.example.>", 501, "5.1.7"},
        MailCase{"<postmaster>", 501, "5.1.7"}, MailCase{"<\xC3\xBCser@b.example>", 553, "5.6.7"},
        MailCase{"<user@b\xC3\xBC"
                 "cher.example>",
                 553, "5.6.7"},
        MailCase{"<\xC3\xBCser@b.example> SMTPUTF8", 0, ""},
        MailCase{"<a@b.example> AUTH=<>", 0, ""},
        MailCase{"<a@b.example> AUTH=a+40b.example", 0, ""},
        MailCase{"<a@b.example> AUTH=", 501, "5.5.4"},
        MailCase{"<a@b.example> AUTH=bad+4", 501, "5.5.4"},
        MailCase{"<a@b.example> AUTH=a+0Db", 501, "5.5.4"},
        MailCase{"<a@b.example> RET=FULL ENVID=QQ314159", 0, ""},
        MailCase{"<a@b.example> RET=ALL", 501, "5.5.4"},
        MailCase{"<a@b.example> ENVID=" + std::string(101, 'x'), 501, "5.5.4"},
        MailCase{"<a@b.example> ENVID=a+2", 501, "5.5.4"}));

TEST(MailFrom, KeepsParameterValues) {
  MailResult r = parse_mail_from(
      "<Sender@Example.COM> SIZE=1234 BODY=8bitmime AUTH=sender+2Bx+40example.com RET=hdrs "
      "ENVID=abc+2B");
  ASSERT_TRUE(r.ok) << r.error.wire();
  EXPECT_EQ(r.value.from.local, "Sender");
  EXPECT_EQ(r.value.from.domain, "example.com");
  EXPECT_EQ(r.value.size, 1234u);
  EXPECT_EQ(r.value.body, MailFrom::Body::EightBitMime);
  EXPECT_FALSE(r.value.smtputf8);
  EXPECT_EQ(r.value.auth, "sender+x@example.com");
  EXPECT_EQ(r.value.ret, "HDRS");
  EXPECT_EQ(r.value.envid, "abc+2B");
}

TEST(MailFrom, Defaults) {
  MailResult r = parse_mail_from("<>");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.value.from.is_null());
  EXPECT_FALSE(r.value.size.has_value());
  EXPECT_EQ(r.value.body, MailFrom::Body::SevenBit);
  EXPECT_FALSE(r.value.smtputf8);
  EXPECT_EQ(r.value.auth, "");
}

TEST(MailFrom, SizeSaturatesPast64Bits) {
  MailResult r = parse_mail_from("<a@b.example> SIZE=99999999999999999999");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.size, std::numeric_limits<uint64_t>::max());
  r = parse_mail_from("<a@b.example> SIZE=18446744073709551615");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.size, std::numeric_limits<uint64_t>::max());
  r = parse_mail_from("<a@b.example> SIZE=18446744073709551614");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.size, std::numeric_limits<uint64_t>::max() - 1);
}

TEST(MailFrom, AuthNullMailbox) {
  MailResult r = parse_mail_from("<a@b.example> AUTH=<>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.auth, "<>");
}

TEST(MailFrom, SmtpUtf8Flag) {
  MailResult r = parse_mail_from(
      "<\xC3\xBCser@b\xC3\xBC"
      "cher.example> SMTPUTF8");
  ASSERT_TRUE(r.ok) << r.error.wire();
  EXPECT_TRUE(r.value.smtputf8);
  EXPECT_TRUE(r.value.from.utf8);
  EXPECT_EQ(r.value.from.domain, "xn--bcher-kva.example");
}

// RFC 8689 §2: REQUIRETLS takes no value, and is known only where offered.
TEST(MailFrom, RequireTls) {
  Extensions ext;
  ext.requiretls = true;
  MailResult r = parse_mail_from("<a@b.example> requiretls SIZE=10", ext);
  ASSERT_TRUE(r.ok) << r.error.wire();
  EXPECT_TRUE(r.value.requiretls);
  EXPECT_FALSE(parse_mail_from("<a@b.example>", ext).value.requiretls);
  r = parse_mail_from("<a@b.example> REQUIRETLS=yes", ext);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, 501);
  r = parse_mail_from("<a@b.example> REQUIRETLS REQUIRETLS", ext);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, 501);
  r = parse_mail_from("<a@b.example> REQUIRETLS");  // default Extensions: not offered
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, 555);
}

TEST(MailFrom, ParametersOfExtensionsNotOfferedAreUnknown) {
  Extensions none{false, false, false, false, false, false};
  for (const char* arg :
       {"<a@b.example> SIZE=1", "<a@b.example> BODY=8BITMIME", "<a@b.example> SMTPUTF8",
        "<a@b.example> AUTH=<>", "<a@b.example> RET=FULL", "<a@b.example> ENVID=x",
        "<a@b.example> REQUIRETLS"}) {
    MailResult r = parse_mail_from(arg, none);
    ASSERT_FALSE(r.ok) << arg;
    EXPECT_EQ(r.error.code, 555) << arg;
    EXPECT_EQ(r.error.enhanced, "5.5.4") << arg;
  }
  EXPECT_TRUE(parse_mail_from("<a@b.example>", none).ok);
}

struct RcptCase {
  std::string arg;
  bool smtputf8;
  int code;
  std::string enhanced;
};

class RcptToTest : public ::testing::TestWithParam<RcptCase> {};

TEST_P(RcptToTest, AcceptsOrRefuses) {
  const RcptCase& c = GetParam();
  RcptResult r = parse_rcpt_to(c.arg, c.smtputf8);
  if (c.code == 0) {
    EXPECT_TRUE(r.ok) << c.arg << " -> " << r.error.wire();
  } else {
    ASSERT_FALSE(r.ok) << c.arg;
    EXPECT_EQ(r.error.code, c.code) << c.arg << " -> " << r.error.wire();
    EXPECT_EQ(r.error.enhanced, c.enhanced) << c.arg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RcptToTest,
    ::testing::Values(RcptCase{"<x@y.example>", false, 0, ""},
                      RcptCase{"<postmaster>", false, 0, ""},
                      RcptCase{"<x@y.example> NOTIFY=SUCCESS,FAILURE", false, 0, ""},
                      RcptCase{"<x@y.example> NOTIFY=never", false, 0, ""},
                      RcptCase{"<x@y.example> ORCPT=rfc822;x+40y.example", false, 0, ""},
                      RcptCase{"<>", false, 501, "5.1.3"},
                      RcptCase{"x@y.example", false, 501, "5.1.3"},
                      RcptCase{"<x@y.example.>", false, 501, "5.1.3"},
                      RcptCase{"<x@y.example> NOTIFY=NEVER,SUCCESS", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> NOTIFY=SUCCESS,SUCCESS", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> NOTIFY=", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> NOTIFY=SOMETIMES", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> ORCPT=rfc822", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> ORCPT=;x", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> ORCPT=rfc822;a+zz", false, 501, "5.5.4"},
                      RcptCase{"<x@y.example> SIZE=10", false, 555, "5.5.4"},
                      RcptCase{"<x@y.example> SMTPUTF8", false, 555, "5.5.4"},
                      RcptCase{"<\xC3\xBC@y.example>", false, 553, "5.6.7"},
                      RcptCase{"<\xC3\xBC@y.example>", true, 0, ""},
                      RcptCase{"<x@b\xC3\xBC"
                               "cher.example>",
                               false, 553, "5.6.7"},
                      RcptCase{"<x@b\xC3\xBC"
                               "cher.example>",
                               true, 0, ""}));

TEST(RcptTo, KeepsDsnParameters) {
  RcptResult r =
      parse_rcpt_to("<User@Y.Example> notify=failure,delay ORCPT=rfc822;User+40y.example");
  ASSERT_TRUE(r.ok) << r.error.wire();
  EXPECT_EQ(r.value.to.local, "User");
  EXPECT_EQ(r.value.to.domain, "y.example");
  EXPECT_EQ(r.value.notify, "FAILURE,DELAY");
  EXPECT_EQ(r.value.orcpt, "rfc822;User+40y.example");
}

TEST(RcptTo, RelayTricksStayLiteral) {
  RcptResult r = parse_rcpt_to("<user%other.example@local.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.to.local, "user%other.example");
  EXPECT_EQ(r.value.to.domain, "local.example");
  r = parse_rcpt_to("<\"user@other.example\"@local.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.to.local, "user@other.example");
  EXPECT_EQ(r.value.to.domain, "local.example");
  r = parse_rcpt_to("<@local.example:user@other.example>");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.value.to.domain, "other.example");  // the route is dropped, not followed
}

}  // namespace
}  // namespace hk::smtp
