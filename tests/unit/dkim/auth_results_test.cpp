// The Authentication-Results reader (RFC 8601 §2.2): authserv-id extraction through CFWS and
// quoted strings, the result list, malformed fields, and claims_authserv_id as used to remove
// forged fields (§5). The examples of RFC 8601 Appendix B and real fields from large providers.
#include "lib/dkim/auth_results.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace hk::dkim {
namespace {

TEST(AuthResultsParse, AuthservIdOfWellFormedFields) {
  struct Case {
    const char* name;
    std::string value;
    std::string id;
  };
  const std::vector<Case> cases = {
      {"none", " example.com; none", "example.com"},
      {"B.4 spf", " example.com;\r\n          spf=pass smtp.mailfrom=example.net", "example.com"},
      {"B.5 auth",
       " example.com;\r\n  auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
       "  spf=pass smtp.mailfrom=example.net",
       "example.com"},
      {"B.6 two dkim",
       " example.com;\r\n      dkim=pass (good signature) "
       "header.d=mail-router.example.net;\r\n      dkim=fail (bad signature) "
       "header.d=newyork.example.com",
       "example.com"},
      {"gmail",
       " mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 "
       "header.b=Wm1S/5Y+;\r\n       spf=pass (google.com: domain of a@example.com "
       "designates 209.85.220.41 as permitted sender) smtp.mailfrom=a@example.com;\r\n"
       "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
       "mx.google.com"},
      {"quoted id", " \"mx.example.com\"; none", "mx.example.com"},
      {"quoted id with escapes", " \"a \\\"b\\\\\"; none", "a \"b\\"},
      {"folded quoted id", " \"mx.\r\n example\"; none", "mx. example"},
      {"comments around", " (first) (nested (deeper) \\) x) mx.example.com (after) ; none",
       "mx.example.com"},
      {"version", " example.com 1; iprev=pass policy.iprev=192.0.2.200", "example.com"},
      {"version with comments", " example.com (v)1(x); none", "example.com"},
      {"final CRLF", " mx.example.com; none\r\n", "mx.example.com"},
      {"LF folding", " mx.example.com;\n\tdkim=pass header.d=example.org\n", "mx.example.com"},
      {"case of none", " mx.example.com; NONE", "mx.example.com"},
      {"utf8 id", " m\xc3\xa4il.example; none", "m\xc3\xa4il.example"},
      {"no space at all", "mx.example.com;spf=pass smtp.mailfrom=a@b.example", "mx.example.com"},
      {"leading tab", "\tmx.example.com; none", "mx.example.com"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::optional<std::string> id = parse_authserv_id(c.value);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(*id, c.id);
    EXPECT_TRUE(claims_authserv_id(c.value, c.id));
  }
}

TEST(AuthResultsParse, ResultsAndProperties) {
  std::optional<AuthResultsField> f = parse_authentication_results(
      " example.org 1; dkim/1 = pass (ok) reason=\"good \\\"sig\\\"\" header.d=a.example\r\n"
      "\theader.b=ab/c+d=;\r\n\tspf=fail smtp.mailfrom=\"john doe\"@example.net;"
      "dmarc=none header . from = example.net");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->authserv_id, "example.org");
  EXPECT_EQ(f->version, "1");
  ASSERT_EQ(f->results.size(), 3u);
  const AuthResultsEntry& dkim = f->results[0];
  EXPECT_EQ(dkim.method, "dkim");
  EXPECT_EQ(dkim.method_version, "1");
  EXPECT_EQ(dkim.result, "pass");
  EXPECT_EQ(dkim.reason, "good \"sig\"");
  EXPECT_EQ(dkim.properties, (std::vector<AuthResultsProperty>{{"header", "d", "a.example"},
                                                               {"header", "b", "ab/c+d="}}));
  EXPECT_EQ(f->results[1].properties,
            (std::vector<AuthResultsProperty>{{"smtp", "mailfrom", "\"john doe\"@example.net"}}));
  EXPECT_EQ(f->results[2].properties,
            (std::vector<AuthResultsProperty>{{"header", "from", "example.net"}}));

  std::optional<AuthResultsField> none = parse_authentication_results(" a.example ; none ");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->results.empty());
  EXPECT_TRUE(none->version.empty());
}

TEST(AuthResultsParse, MalformedFieldsAreRefused) {
  const std::vector<std::string> bad = {
      "",
      "   ",
      " mx.example.com",                          // neither "none" nor a result
      " mx.example.com; ",                        // empty resinfo
      " mx.example.com;",                         //
      " mx.example.com; spf=pass;",               // trailing ";" (RFC 8601 §2.2 has no empty one)
      " mx.example.com; spf",                     // no "=result"
      " mx.example.com; spf=",                    // no result
      " mx.example.com; =pass",                   // no method
      " mx.example.com; -spf=pass",               // a Keyword starts with a letter or digit
      " mx.example.com; spf=pass smtp",           // propspec without "." property "=" value
      " mx.example.com; spf=pass smtp.mailfrom",  //
      " mx.example.com; spf=pass smtp.mailfrom=",
      " mx.example.com; spf=pass reason=",  // reasonspec without a value
      " mx.example.com; dkim/=pass",        // method-version needs digits
      " mx.example.com (unclosed; none",
      " mx.example.com (bad \\\x01 pair); none",
      " \"unclosed; none",
      " \"\"; none",                // an empty authserv-id names nobody
      " @example.com; none",        // '@' is a tspecial: not a token
      " mx.example.com 1 2; none",  // one version at most
      " mx.example.com\"x\"; none",
      " mx.example.com;\r\nspf=pass",  // CRLF without WSP after it is not folding
      " mx.example.com; spf=pass\r",   // bare CR
      " mx.example.com; none extra",
      std::string(" mx.example.com; spf=pass\0", 26),
  };
  for (const std::string& v : bad) {
    SCOPED_TRACE(v);
    EXPECT_FALSE(parse_authentication_results(v).has_value());
    EXPECT_FALSE(parse_authserv_id(v).has_value());
  }
}

TEST(AuthResultsParse, DeepCommentNestingIsLinear) {
  // A hostile sender's comment nesting costs a counter, not a stack frame per level.
  std::string value =
      " mx.example.com " + std::string(100000, '(') + std::string(100000, ')') + "; none";
  EXPECT_EQ(parse_authserv_id(value), "mx.example.com");
  EXPECT_FALSE(parse_authserv_id(" mx.example.com " + std::string(100000, '(') + "; none"));
}

TEST(AuthResultsClaims, CaseInsensitiveAndExact) {
  EXPECT_TRUE(claims_authserv_id(" mx.example.com; none", "mx.example.com"));
  EXPECT_TRUE(claims_authserv_id(" MX.Example.COM; dkim=pass", "mx.example.com"));
  EXPECT_TRUE(claims_authserv_id(" \"mx.example.com\" (x); none", "MX.EXAMPLE.COM"));
  EXPECT_TRUE(claims_authserv_id(" (c) mx.example.com\r\n\t; none", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" mx.example.com.evil; none", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" evil.mx.example.com; none", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" mx.example.co; none", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" mx.example.com; none", ""));
  EXPECT_FALSE(claims_authserv_id("", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" (mx.example.com) other.example; none", "mx.example.com"));
}

TEST(AuthResultsClaims, ForgedFieldWithBrokenTailIsStillClaimed) {
  // RFC 8601 §5: a field naming our authserv-id did not come from us; a malformed result list
  // must not let it stay in the message.
  for (const char* v :
       {" mx.example.com; dkim=pass header.d=paypal.com;;", " mx.example.com; spf=pass (unclosed",
        " mx.example.com", " mx.example.com;", " mx.example.com (", " mx.example.com\r\n"}) {
    SCOPED_TRACE(v);
    EXPECT_TRUE(claims_authserv_id(v, "mx.example.com"));
  }
  // But the id itself must end where the grammar ends it.
  EXPECT_FALSE(claims_authserv_id(" mx.example.com/x; none", "mx.example.com"));
  EXPECT_FALSE(claims_authserv_id(" mx.example.com@x; none", "mx.example.com"));
}

TEST(AuthResultsParse, OurOwnFieldParsesBack) {
  std::vector<DkimVerifyResult> dkim = {{"pass", "example.org", "sel", "signature verified"},
                                        {"fail", "example.net", "s2", "body hash mismatch"}};
  std::string field =
      authentication_results("mx.example.com", dkim, "softfail", "bounce@example.org");
  const std::string name = "Authentication-Results:";
  ASSERT_EQ(field.compare(0, name.size(), name), 0);
  std::optional<AuthResultsField> f = parse_authentication_results(field.substr(name.size()));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->authserv_id, "mx.example.com");
  ASSERT_EQ(f->results.size(), 3u);
  EXPECT_EQ(f->results[0].result, "pass");
  EXPECT_EQ(f->results[1].result, "fail");
  EXPECT_EQ(f->results[1].properties[0], (AuthResultsProperty{"header", "d", "example.net"}));
  EXPECT_EQ(f->results[2].method, "spf");
  EXPECT_EQ(f->results[2].properties[0],
            (AuthResultsProperty{"smtp", "mailfrom", "bounce@example.org"}));

  // '@' is an RFC 2045 tspecial: the writer drops it from the id rather than write a field that
  // no reader accepts (found by the auth_results fuzz target's writer check).
  std::string at = authentication_results("mx@example.com", {}, "", "");
  EXPECT_EQ(at, "Authentication-Results: mxexample.com; none\r\n");
  EXPECT_EQ(parse_authserv_id(at.substr(name.size())), "mxexample.com");
}

// Further results (DMARC's) come after spf, cleaned like the rest, and parse back.
TEST(AuthResultsParse, FurtherResultsParseBack) {
  std::vector<ResultInfo> more = {
      {"dmarc",
       "fail",
       "p=reject sp=none dis=none, not enforced: reject",
       {{"header.from", "example.org"}}},
      {"dmarc", "permerror", "2 From: fields (and a (nested) one)", {}},
      {"", "pass", "", {}},  // no method: left out
  };
  std::string field = authentication_results("mx.example.com", {}, "pass", "a@example.org", more);
  EXPECT_NE(field.find(";\r\n\tdmarc=fail (p=reject sp=none dis=none, not enforced: reject)\r\n"
                       "\theader.from=example.org;"),
            std::string::npos)
      << field;
  const std::string name = "Authentication-Results:";
  std::optional<AuthResultsField> f = parse_authentication_results(field.substr(name.size()));
  ASSERT_TRUE(f.has_value()) << field;
  ASSERT_EQ(f->results.size(), 3u);
  EXPECT_EQ(f->results[1].method, "dmarc");
  EXPECT_EQ(f->results[1].result, "fail");
  EXPECT_EQ(f->results[1].properties,
            (std::vector<AuthResultsProperty>{{"header", "from", "example.org"}}));
  EXPECT_EQ(f->results[2].result, "permerror");
  // Only further results: no "none".
  EXPECT_EQ(authentication_results("mx.example.com", {}, "", "", {more[1]}),
            "Authentication-Results: mx.example.com;\r\n\tdmarc=permerror (2 From: fields and a "
            "nested one)\r\n");
}

}  // namespace
}  // namespace hk::dkim
