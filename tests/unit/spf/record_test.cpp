// Table tests of the SPF record parser (RFC 7208 §4.5, §5, §6, §12).
#include "lib/spf/record.hpp"

#include <gtest/gtest.h>

namespace hk::spf {
namespace {

TEST(SpfRecord, Selection) {
  struct Case {
    const char* txt;
    bool spf;
  };
  const Case cases[] = {
      {"v=spf1", true},      {"v=spf1 -all", true}, {"V=SpF1 ~all", true}, {"v=spf10", false},
      {"v=spf1-all", false}, {"spf1", false},       {"x v=spf1", false},   {"", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_spf_record(c.txt), c.spf) << c.txt;
  }
}

TEST(SpfRecord, ValidAndInvalid) {
  struct Case {
    const char* txt;
    bool ok;
  };
  const Case cases[] = {
      {"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all", true},
      {"v=spf1 a mx ptr ?all", true},
      {"v=spf1 a/24//64 mx:example.com/28", true},
      {"v=spf1 a//64", true},
      {"v=spf1 include:_spf.example.com exists:%{ir}.bl.example.com", true},
      {"v=spf1 redirect=_spf.example.com exp=explain.example.com", true},
      {"v=spf1 foo=bar", true},  // unknown modifier: ignored
      {"v=spf1  -all  ", true},
      {"v=spf1 -all.", false},
      {"v=spf1 -all:foobar", false},
      {"v=spf1 -all/8", false},
      {"v=spf1 ip4:192.0.2.0/33", false},
      {"v=spf1 ip6:2001:db8::/129", false},
      {"v=spf1 ip4:1.2.3", false},
      {"v=spf1 a/024", false},
      {"v=spf1 ptr/0", false},
      {"v=spf1 include", false},
      {"v=spf1 a:foo.123", false},  // toplabel must not be all-numeric
      {"v=spf1 a:example.-com", false},
      {"v=spf1 a:example", false},
      {"v=spf1 bogus", false},
      {"v=spf1 redirect=a.example.com redirect=b.example.com", false},
      {"v=spf1 exp=a.example.com exp=b.example.com", false},
      {"v=spf1 exists:%{x}.example.com", false},
      {"v=spf1 -all\n", false},
  };
  for (const Case& c : cases) {
    ParsedRecord p = parse_record(c.txt);
    EXPECT_EQ(p.error.empty(), c.ok) << c.txt << ": " << p.error;
  }
}

TEST(SpfRecord, Fields) {
  ParsedRecord p =
      parse_record("v=spf1 -a:mail.example.com/24//64 ~ip4:192.0.2.0/26 redirect=x.org");
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.record.mechanisms.size(), 2u);
  const Mechanism& a = p.record.mechanisms[0];
  EXPECT_EQ(a.qualifier, Qualifier::Fail);
  EXPECT_EQ(a.kind, MechanismKind::A);
  EXPECT_EQ(a.domain_spec, "mail.example.com");
  EXPECT_EQ(a.cidr4, 24);
  EXPECT_EQ(a.cidr6, 64);
  const Mechanism& ip4 = p.record.mechanisms[1];
  EXPECT_EQ(ip4.qualifier, Qualifier::SoftFail);
  EXPECT_EQ(ip4.kind, MechanismKind::Ip4);
  EXPECT_EQ(ip4.text, "ip4:192.0.2.0/26");
  EXPECT_EQ(ip4.cidr4, 26);
  EXPECT_EQ(ip4.network.to_string(), "192.0.2.0");
  EXPECT_TRUE(p.record.has_redirect);
  EXPECT_EQ(p.record.redirect, "x.org");
}

}  // namespace
}  // namespace hk::spf
