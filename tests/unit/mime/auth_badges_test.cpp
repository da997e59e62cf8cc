// Authentication-Results fields read into badges (RFC 8601).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/mime/mime.hpp"

namespace hk::mime {
namespace {

using Badges = std::vector<AuthBadge>;

TEST(AuthBadges, GmailShapedField) {
  Message m = parse(
      "ARC-Authentication-Results: i=1; mx.google.com;\r\n       dkim=pass header.i=@x.com\r\n"
      "Authentication-Results: mx.google.com;\r\n"
      "       dkim=pass header.i=@example.com header.s=20230601 header.b=AbCdEf12;\r\n"
      "       spf=pass (google.com: domain of ana@example.com designates 209.85.220.41 as "
      "permitted sender) smtp.mailfrom=ana@example.com;\r\n"
      "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com\r\n"
      "Subject: x\r\n\r\nbody\r\n");
  Badges b = auth_badges(m.headers, "mx.google.com");
  Badges want = {
      {"dkim", "pass", "header.i=@example.com header.s=20230601 header.b=AbCdEf12"},
      {"spf", "pass", "smtp.mailfrom=ana@example.com"},
      {"dmarc", "pass", "header.from=example.com"},
  };
  EXPECT_EQ(b, want);
  EXPECT_EQ(auth_badges(m.headers, "MX.Google.COM"), want);  // case-insensitive id
  EXPECT_TRUE(auth_badges(m.headers, "mx.example.net").empty());
  EXPECT_EQ(auth_badges(m.headers, "").size(), 3U);  // ARC-Authentication-Results is not read
}

TEST(AuthBadges, OnlyOurOwnFields) {
  std::vector<Header> h = {
      {"Authentication-Results", "", "mx.example.net; dkim=fail header.d=spoof.example"},
      {"Authentication-Results", "", "hikyaku.example; dkim=pass header.d=example.com"},
      {"authentication-results", "", "\"hikyaku.example\" 1; spf=softfail smtp.mailfrom=a@b"},
  };
  EXPECT_EQ(auth_badges(h, "hikyaku.example"), (Badges{{"dkim", "pass", "header.d=example.com"},
                                                       {"spf", "softfail", "smtp.mailfrom=a@b"}}));
  EXPECT_EQ(auth_badges(h, "").size(), 3U);
}

TEST(AuthBadges, OddSpacingCommentsVersionsReasons) {
  std::vector<Header> h = {
      {"Authentication-Results", "",
       " (leading comment) example.org (the id)  ;  DKIM/1 = Pass (good sig) header.d = "
       "example.com ;\tarc=none;iprev=fail policy.iprev=192.0.2.200 reason=\"no PTR; really\"; "
       "auth=pass (cram-md5) smtp.auth=sender@example.net ; dmarc=fail (p=reject) "
       "header.from=\"example.com\"; none"},
      {"Authentication-Results", "", "example.org; none"},
      {"Authentication-Results", "", "example.org"},
      {"Authentication-Results", "", ""},
      {"Authentication-Results", "", "(only (nested) comments"},
      {"Authentication-Results", "", "example.org; =pass; dkim=; spf; /v=pass"},
  };
  Badges want = {
      {"dkim", "pass", "header.d=example.com"},
      {"arc", "none", ""},
      {"iprev", "fail", "policy.iprev=192.0.2.200 reason=\"no PTR; really\""},
      {"auth", "pass", "smtp.auth=sender@example.net"},
      {"dmarc", "fail", "header.from=example.com"},
  };
  EXPECT_EQ(auth_badges(h, "example.org"), want);
}

TEST(AuthBadges, HostileFieldsAreBounded) {
  std::string huge = "example.org";
  for (int i = 0; i < 20000; ++i) {
    huge += "; dkim=pass header.d=d" + std::to_string(i) + ".example";
  }
  std::vector<Header> h = {{"Authentication-Results", "", huge},
                           {"Authentication-Results", "", std::string(100000, '(')},
                           {"Authentication-Results", "", std::string(100000, '"')},
                           {"Authentication-Results", "", std::string(100000, ';')}};
  Badges b = auth_badges(h, "example.org");
  EXPECT_EQ(b.size(), 100U);  // capped
}

}  // namespace
}  // namespace hk::mime
