// From: address extraction and submission header fix-ups.
#include "daemon/server/message_checks.hpp"

#include <gtest/gtest.h>

namespace hk::server {
namespace {

struct FromCase {
  const char* message;
  std::vector<std::string> want;
};

class HeaderFrom : public testing::TestWithParam<FromCase> {};

TEST_P(HeaderFrom, Extracts) {
  EXPECT_EQ(header_from_addresses(GetParam().message), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HeaderFrom,
    testing::Values(FromCase{"From: alice@example.test\r\n\r\nbody", {"alice@example.test"}},
                    FromCase{"From: Alice <alice@Example.TEST>\r\n\r\n", {"alice@example.test"}},
                    FromCase{"from:   \"Doe, John\" <john@x.test>\r\n\r\n", {"john@x.test"}},
                    FromCase{"From: a@x.test, \"B\" <b@y.test>\r\n\r\n", {"a@x.test", "b@y.test"}},
                    FromCase{"From: Alice\r\n <alice@x.test>\r\n\r\n", {"alice@x.test"}},
                    FromCase{"From: alice@x.test (comment <evil@y.test>)\r\n\r\n",
                             {"alice@x.test"}},
                    FromCase{"From: \"evil@y.test\" <alice@x.test>\r\n\r\n", {"alice@x.test"}},
                    FromCase{"From: team: a@x.test, b@x.test;\r\n\r\n", {"a@x.test", "b@x.test"}},
                    FromCase{"Subject: x\r\nFrom: a@x.test\r\nFrom: b@y.test\r\n\r\n",
                             {"a@x.test", "b@y.test"}},
                    // Only the header section counts.
                    FromCase{"Subject: x\r\n\r\nFrom: b@y.test\r\n", {}},
                    FromCase{"\r\nFrom: b@y.test\r\n", {}},
                    FromCase{"X-From: b@y.test\r\n\r\n", {}}));

// DMARC (RFC 7489 §6.6.1) tells the fields apart.
TEST(HeaderFromFields, OneEntryPerField) {
  using Fields = std::vector<std::vector<std::string>>;
  EXPECT_EQ(header_from_fields("Subject: x\r\n\r\n"), Fields{});
  EXPECT_EQ(header_from_fields("From: A <a@X.test>\r\n\r\nFrom: b@y.test\r\n"),
            (Fields{{"a@x.test"}}));
  EXPECT_EQ(header_from_fields("From: a@x.test, b@y.test\r\n\r\n"),
            (Fields{{"a@x.test", "b@y.test"}}));
  EXPECT_EQ(header_from_fields("From: a@x.test\r\nTo: c@z.test\r\nFROM: b@y.test\r\n\r\n"),
            (Fields{{"a@x.test"}, {"b@y.test"}}));
  EXPECT_EQ(header_from_fields("From: undisclosed:;\r\n\r\n"), (Fields{{}}));
  EXPECT_EQ(header_from_fields("From: undisclosed\r\n\r\n"), (Fields{{"undisclosed"}}));
}

TEST(SubmissionHeaders, AddsWhatIsMissing) {
  std::string add = missing_submission_headers("Subject: x\r\n\r\nbody\r\n", "ID1", "mx.test",
                                               "Mon, 23 Nov 2026 10:00:00 +0000");
  EXPECT_EQ(add, "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <ID1@mx.test>\r\n");
  EXPECT_EQ(
      missing_submission_headers("Date: x\r\nMessage-Id: <a@b>\r\n\r\n", "ID1", "mx.test", "d"),
      "");
  // A Date in the body is not a Date header.
  EXPECT_EQ(missing_submission_headers("Message-ID: <a@b>\r\n\r\nDate: x\r\n", "I", "h", "d"),
            "Date: d\r\n");
}

// RFC 8601 §5: only fields that carry our authserv-id, whatever the case of the name or the id,
// folded or with a comment first; fields of other hosts stay.
TEST(ForgedAuthResults, FindsOnlyFieldsClaimingOurId) {
  const std::string headers =
      "Received: from a\r\n"
      "Authentication-Results: mx.test; dkim=pass header.d=bank.test\r\n"
      "authentication-results: (comment) MX.TEST;\r\n spf=pass smtp.mailfrom=x\r\n"
      "Authentication-Results: other.test; dkim=pass\r\n"
      "Authentication-Results: mx.test.evil; dkim=pass\r\n"
      "X-Authentication-Results: mx.test; dkim=pass\r\n"
      "Authentication-Results:\r\n\tmx.test 1; none\r\n"
      "Subject: Authentication-Results: mx.test; dkim=pass\r\n";
  std::vector<size_t> at = forged_auth_results(headers, "mx.test");
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(headers.substr(at[0], 25), "Authentication-Results: m");
  EXPECT_EQ(headers.substr(at[1], 25), "authentication-results: (");
  EXPECT_EQ(headers.substr(at[2], 24), "Authentication-Results:\r");
  EXPECT_EQ(kRenamedAuthResults.size(), std::string_view("Authentication-Results").size());
  EXPECT_TRUE(forged_auth_results("Subject: x\r\n", "mx.test").empty());
}

}  // namespace
}  // namespace hk::server
