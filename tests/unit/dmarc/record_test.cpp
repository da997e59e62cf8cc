// parse_record: every tag of RFC 7489 §6.3, and what an error in each costs.
#include "lib/dmarc/record.hpp"

#include <gtest/gtest.h>

namespace hk::dmarc {
namespace {

TEST(DmarcRecord, MinimalRecordTakesTheDefaults) {
  ParsedRecord r = parse_record("v=DMARC1; p=none");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::None);
  EXPECT_FALSE(r.record.sp);
  EXPECT_EQ(r.record.adkim, Alignment::Relaxed);
  EXPECT_EQ(r.record.aspf, Alignment::Relaxed);
  EXPECT_EQ(r.record.pct, 100);
  EXPECT_EQ(r.record.fo, "0");
  EXPECT_EQ(r.record.rf, "afrf");
  EXPECT_EQ(r.record.ri, 86400u);
  EXPECT_TRUE(r.record.rua.empty());
  EXPECT_TRUE(r.record.ignored.empty());
}

TEST(DmarcRecord, EveryTag) {
  ParsedRecord r = parse_record(
      "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s; pct=25; "
      "rua=mailto:agg@example.com!10m, mailto:other@example.net; ruf=mailto:f@example.com; "
      "fo=1:d; rf=afrf; ri=3600");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::Reject);
  ASSERT_TRUE(r.record.sp);
  EXPECT_EQ(*r.record.sp, Policy::Quarantine);
  EXPECT_EQ(r.record.adkim, Alignment::Strict);
  EXPECT_EQ(r.record.aspf, Alignment::Strict);
  EXPECT_EQ(r.record.pct, 25);
  EXPECT_EQ(r.record.rua,
            (std::vector<std::string>{"mailto:agg@example.com!10m", "mailto:other@example.net"}));
  EXPECT_EQ(r.record.ruf, (std::vector<std::string>{"mailto:f@example.com"}));
  EXPECT_EQ(r.record.fo, "1:d");
  EXPECT_EQ(r.record.ri, 3600u);
  EXPECT_TRUE(r.record.ignored.empty());
}

TEST(DmarcRecord, PolicyValuesAreCaseInsensitiveAndSpacingIsFree) {
  ParsedRecord r = parse_record("  v = DMARC1 ;p = Quarantine;  adkim=S ;");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::Quarantine);
  EXPECT_EQ(r.record.adkim, Alignment::Strict);
}

TEST(DmarcRecord, PMayFollowOtherTags) {
  ParsedRecord r = parse_record("v=DMARC1; rua=mailto:a@example.com; p=reject");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::Reject);
}

TEST(DmarcRecord, NotDmarcUnlessVersionComesFirstExactly) {
  for (const char* text : {"v=spf1 -all", "p=reject; v=DMARC1", "v=DMARC2; p=reject",
                           "v=dmarc1; p=reject", "", "v=DMARC1 p=reject", "hello world"}) {
    EXPECT_EQ(parse_record(text).kind, RecordKind::NotDmarc) << text;
  }
}

TEST(DmarcRecord, MissingOrBadPolicyIsInvalid) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"v=DMARC1", "no p= tag"},
      {"v=DMARC1; p=", "invalid p="},
      {"v=DMARC1; p=rejectt", "invalid p=rejectt"},
      {"v=DMARC1; p=reject; sp=maybe", "invalid sp=maybe"},
  };
  for (const Case& c : cases) {
    ParsedRecord r = parse_record(c.text);
    EXPECT_EQ(r.kind, RecordKind::Invalid) << c.text;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << c.text << ": " << r.error;
  }
}

// §6.6.3 step 6.1: a record without a valid p but with a valid rua counts as p=none.
TEST(DmarcRecord, BadPolicyWithReportAddressIsPolicyNone) {
  ParsedRecord r = parse_record("v=DMARC1; p=bogus; sp=reject; rua=mailto:d@example.com");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::None);
  EXPECT_FALSE(r.record.sp);
  ASSERT_EQ(r.record.ignored.size(), 1u);
  EXPECT_NE(r.record.ignored[0].find("p=none"), std::string::npos);

  EXPECT_EQ(parse_record("v=DMARC1; rua=bad uri").kind, RecordKind::Invalid);
  // A valid p with an unusable rua is simply valid: reports are not ours to send.
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; rua=not a uri").kind, RecordKind::Valid);
}

// §6.3: syntax errors outside v and p fall back to the defaults.
TEST(DmarcRecord, BadOptionalValuesFallBackToDefaults) {
  ParsedRecord r =
      parse_record("v=DMARC1; p=reject; adkim=x; aspf=strict; pct=101; ri=-5; novalue; zz=top");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::Reject);
  EXPECT_EQ(r.record.adkim, Alignment::Relaxed);
  EXPECT_EQ(r.record.aspf, Alignment::Relaxed);
  EXPECT_EQ(r.record.pct, 100);
  EXPECT_EQ(r.record.ri, 86400u);
  EXPECT_EQ(r.record.ignored,
            (std::vector<std::string>{"adkim=x", "aspf=strict", "pct=101", "ri=-5"}));
}

TEST(DmarcRecord, PctBounds) {
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=0").record.pct, 0);
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=100").record.pct, 100);
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=abc").record.pct, 100);
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=99999999999").record.pct, 100);
}

TEST(DmarcRecord, RepeatedTagIsReadAtItsFirstPlace) {
  ParsedRecord r = parse_record("v=DMARC1; p=none; p=reject");
  ASSERT_EQ(r.kind, RecordKind::Valid);
  EXPECT_EQ(r.record.p, Policy::None);
}

TEST(DmarcRecord, Uris) {
  EXPECT_TRUE(is_dmarc_uri("mailto:a@example.com"));
  EXPECT_TRUE(is_dmarc_uri("mailto:a@example.com!50"));
  EXPECT_TRUE(is_dmarc_uri("mailto:a@example.com!50m"));
  EXPECT_TRUE(is_dmarc_uri("https://example.com/report"));
  EXPECT_FALSE(is_dmarc_uri("a@example.com"));
  EXPECT_FALSE(is_dmarc_uri("mailto:"));
  EXPECT_FALSE(is_dmarc_uri(":x"));
  EXPECT_FALSE(is_dmarc_uri("mailto:a@example.com!"));
  EXPECT_FALSE(is_dmarc_uri("mailto:a@example.com!10q"));
  EXPECT_FALSE(is_dmarc_uri("mail to:x"));
}

TEST(DmarcRecord, Names) {
  EXPECT_EQ(to_string(Policy::None), "none");
  EXPECT_EQ(to_string(Policy::Quarantine), "quarantine");
  EXPECT_EQ(to_string(Policy::Reject), "reject");
  EXPECT_EQ(to_string(Alignment::Relaxed), "r");
  EXPECT_EQ(to_string(Alignment::Strict), "s");
}

}  // namespace
}  // namespace hk::dmarc
