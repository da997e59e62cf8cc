// The inbound policy: AUTH, relaying, EHLO keywords, SPF and DKIM decisions for every kind of
// client, against tables written from the RFCs (and, for SPF and DKIM, against the single
// decision the session made before the two were separated).
#include "daemon/server/inbound_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::server {
namespace {

std::string describe(const ClientStanding& c) {
  return std::string(port_name(c.port)) + (c.tls ? " tls" : "") + (c.trusted ? " trusted" : "") +
         (c.loopback ? " loopback" : "") + (c.authenticated ? " authenticated" : "");
}

// Every standing a session can be in.
std::vector<ClientStanding> all_standings() {
  std::vector<ClientStanding> out;
  for (Port port : {Port::Smtp, Port::Submission, Port::SubmissionTls}) {
    for (int bits = 0; bits < 16; ++bits) {
      out.push_back({port, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0});
    }
  }
  return out;
}

struct Row {
  ClientStanding c;
  bool auth_offered;      // with allow_plain_auth_from_trusted = false
  bool auth_offered_lax;  // with allow_plain_auth_from_trusted = true
  bool auth_required;
  bool may_relay;
  bool spf_and_dkim;  // with DNS
};

const Row kRows[] = {
    // A stranger on port 25: no AUTH, no relaying, checked.
    {{Port::Smtp, false, false, false, false}, false, false, false, false, true},
    {{Port::Smtp, true, false, false, false}, false, false, false, false, true},
    // Trusted on port 25: relays, not checked; still no AUTH there (RFC 6409 §4.3).
    {{Port::Smtp, false, true, true, false}, false, false, false, true, false},
    // Submission in plaintext: AUTH only after STARTTLS, or for trusted loopback when allowed.
    {{Port::Submission, false, false, false, false}, false, false, true, false, false},
    {{Port::Submission, false, true, true, false}, false, true, false, true, false},
    {{Port::Submission, false, true, false, false}, false, false, false, true, false},
    {{Port::Submission, false, false, true, false}, false, false, true, false, false},
    {{Port::Submission, true, false, false, false}, true, true, true, false, false},
    {{Port::Submission, true, false, false, true}, true, true, false, true, false},
    // Port 465 is TLS from the first byte.
    {{Port::SubmissionTls, true, false, false, false}, true, true, true, false, false},
    {{Port::SubmissionTls, true, false, false, true}, true, true, false, true, false},
};

TEST(InboundPolicy, Table) {
  for (const Row& r : kRows) {
    SCOPED_TRACE(describe(r.c));
    EXPECT_EQ(auth_offered(r.c, false), r.auth_offered);
    EXPECT_EQ(auth_offered(r.c, true), r.auth_offered_lax);
    EXPECT_EQ(auth_required(r.c), r.auth_required);
    EXPECT_EQ(may_relay(r.c), r.may_relay);
    EXPECT_EQ(should_check_spf(r.c, true), r.spf_and_dkim);
    EXPECT_EQ(should_verify_dkim(r.c, true), r.spf_and_dkim);
    EXPECT_FALSE(should_check_spf(r.c, false));
    EXPECT_FALSE(should_verify_dkim(r.c, false));
  }
}

// Before the two decisions were separated the session verified DKIM exactly when it had checked
// SPF and had a resolver (`needs_spf() && deps_.resolver != nullptr`, needs_spf() being
// `port_ == Smtp && auth_user_.empty() && !trusted_ && deps_.spf != nullptr`). The daemon builds
// both lookups together, so with DNS present or absent the outcome is the same for every client.
TEST(InboundPolicy, SameOutcomeAsTheSharedDecision) {
  for (const ClientStanding& c : all_standings()) {
    for (bool dns : {false, true}) {
      SCOPED_TRACE(describe(c) + (dns ? " dns" : ""));
      bool old_spf = c.port == Port::Smtp && !c.authenticated && !c.trusted && dns;
      bool old_dkim = old_spf && dns;
      EXPECT_EQ(should_check_spf(c, dns), old_spf);
      EXPECT_EQ(should_verify_dkim(c, dns), old_dkim);
    }
  }
}

TEST(InboundPolicy, EhloKeywords) {
  const std::vector<std::string> base = {"SIZE 1048576", "8BITMIME", "PIPELINING", "SMTPUTF8",
                                         "ENHANCEDSTATUSCODES"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> out = base;
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  };
  ClientStanding smtp{Port::Smtp, false, false, false, false};
  EXPECT_EQ(ehlo_keywords(smtp, 1048576, true, false), with({"STARTTLS"}));
  EXPECT_EQ(ehlo_keywords(smtp, 1048576, false, false), base);  // no certificate, no STARTTLS
  ClientStanding sub{Port::Submission, false, false, false, false};
  EXPECT_EQ(ehlo_keywords(sub, 1048576, true, false), with({"STARTTLS"}));
  sub.tls = true;  // RFC 8689 §4.1: REQUIRETLS only under TLS
  EXPECT_EQ(ehlo_keywords(sub, 1048576, true, false), with({"REQUIRETLS", "AUTH PLAIN LOGIN"}));
  sub.authenticated = true;  // RFC 4954 §4: no second AUTH
  EXPECT_EQ(ehlo_keywords(sub, 1048576, true, false), with({"REQUIRETLS"}));
  smtp.tls = true;
  EXPECT_EQ(ehlo_keywords(smtp, 1048576, true, false), with({"REQUIRETLS"}));
  smtp.tls = false;
  ClientStanding local{Port::Submission, false, true, true, false};
  EXPECT_EQ(ehlo_keywords(local, 1048576, true, true), with({"STARTTLS", "AUTH PLAIN LOGIN"}));
  EXPECT_EQ(ehlo_keywords(smtp, 50, true, false).front(), "SIZE 50");
}

}  // namespace
}  // namespace hk::server
