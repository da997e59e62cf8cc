// Tests for the Received-SPF header field value (RFC 7208 §9.1).
#include <gtest/gtest.h>

#include "lib/spf/check_host.hpp"

namespace hk::spf {
namespace {

using boost::asio::ip::make_address;

Outcome outcome(Result r, std::string problem = "") {
  Outcome o;
  o.result = r;
  o.problem = std::move(problem);
  return o;
}

TEST(ReceivedSpf, Pass) {
  EXPECT_EQ(received_spf(outcome(Result::Pass), make_address("192.0.2.1"), "a@example.com",
                         "mx.example.com", "mx.local"),
            "pass (hikyaku: domain of a@example.com designates 192.0.2.1 as permitted sender) "
            "client-ip=192.0.2.1; envelope-from=\"a@example.com\"; helo=mx.example.com; "
            "receiver=mx.local;");
}

TEST(ReceivedSpf, FailAndSoftFailSayNotDesignated) {
  for (Result r : {Result::Fail, Result::SoftFail}) {
    std::string v = received_spf(outcome(r), make_address("2001:db8::5"), "b@example.org",
                                 "h.example.org", "mx.local");
    EXPECT_TRUE(v.starts_with(std::string(to_string(r)) +
                              " (hikyaku: domain of b@example.org "
                              "does not designate 2001:db8::5 as permitted sender) "))
        << v;
    EXPECT_NE(v.find("client-ip=2001:db8::5;"), std::string::npos) << v;
  }
}

TEST(ReceivedSpf, NeutralAndErrors) {
  EXPECT_TRUE(
      received_spf(outcome(Result::Neutral), make_address("192.0.2.9"), "c@example.net", "h", "r")
          .starts_with("neutral (hikyaku: 192.0.2.9 is neither permitted nor denied "
                       "by domain of c@example.net) "));
  // A problem text with parentheses or a backslash cannot unbalance the comment.
  std::string v = received_spf(outcome(Result::PermError, "bad (nested) record \\ here"),
                               make_address("192.0.2.9"), "c@example.net", "h", "r");
  EXPECT_TRUE(v.starts_with("permerror (hikyaku: bad nested record  here) client-ip=192.0.2.9;"))
      << v;
  EXPECT_TRUE(
      received_spf(outcome(Result::None), make_address("192.0.2.9"), "c@example.net", "h", "r")
          .starts_with("none (hikyaku: no verdict) "));
}

TEST(ReceivedSpf, EmptyPartsAreLeftOut) {
  // A bounce (MAIL FROM:<>) has no envelope-from; no HELO name, no receiver.
  EXPECT_EQ(
      received_spf(outcome(Result::None, "no SPF record"), make_address("192.0.2.7"), "", "", ""),
      "none (hikyaku: no SPF record) client-ip=192.0.2.7;");
}

TEST(ReceivedSpf, QuotedLocalPartIsEscaped) {
  std::string v = received_spf(outcome(Result::Pass), make_address("192.0.2.1"),
                               "\"john doe\"@example.com", "h", "r");
  EXPECT_NE(v.find("envelope-from=\"\\\"john doe\\\"@example.com\";"), std::string::npos) << v;
}

}  // namespace
}  // namespace hk::spf
