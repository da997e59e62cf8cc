// records_for, to_zone, to_json, split_txt and reverse_name of util/dns_records.hpp.
#include "util/dns_records.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hk::util {
namespace {

RecordsInput base_input() {
  RecordsInput in;
  in.domain = "example.com";
  in.hostname = "mx.example.com";
  in.sts_id = "20261123174500";
  return in;
}

const DnsRecord* find(const std::vector<DnsRecord>& rs, const std::string& name,
                      const std::string& type) {
  for (const DnsRecord& r : rs) {
    if (r.name == name && r.type == type) {
      return &r;
    }
  }
  return nullptr;
}

TEST(DnsRecords, OptionsTable) {
  struct Case {
    std::string ip4, ip6, policy, rua;
    std::string spf, dmarc, tlsrpt;
    bool has_a, has_aaaa;
  };
  const Case cases[] = {
      {"", "", "quarantine", "", "v=spf1 mx -all",
       "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com",
       "v=TLSRPTv1; rua=mailto:postmaster@example.com", false, false},
      {"192.0.2.1", "", "reject", "", "v=spf1 ip4:192.0.2.1 mx -all",
       "v=DMARC1; p=reject; rua=mailto:postmaster@example.com",
       "v=TLSRPTv1; rua=mailto:postmaster@example.com", true, false},
      {"", "2001:db8::1", "none", "dmarc@reports.example.net", "v=spf1 ip6:2001:db8::1 mx -all",
       "v=DMARC1; p=none; rua=mailto:dmarc@reports.example.net",
       "v=TLSRPTv1; rua=mailto:postmaster@example.com", false, true},
      {"192.0.2.1", "2001:db8::1", "quarantine", "", "v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 mx -all",
       "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com",
       "v=TLSRPTv1; rua=mailto:postmaster@example.com", true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spf);
    RecordsInput in = base_input();
    in.ip4 = c.ip4;
    in.ip6 = c.ip6;
    in.dmarc_policy = c.policy;
    in.rua = c.rua;
    std::vector<DnsRecord> rs = records_for(in);
    const DnsRecord* mx = find(rs, "example.com.", "MX");
    ASSERT_NE(mx, nullptr);
    EXPECT_EQ(mx->value, "10 mx.example.com.");
    const DnsRecord* spf = find(rs, "example.com.", "TXT");
    ASSERT_NE(spf, nullptr);
    EXPECT_EQ(spf->value, c.spf);
    const DnsRecord* dmarc = find(rs, "_dmarc.example.com.", "TXT");
    ASSERT_NE(dmarc, nullptr);
    EXPECT_EQ(dmarc->value, c.dmarc);
    const DnsRecord* tls = find(rs, "_smtp._tls.example.com.", "TXT");
    ASSERT_NE(tls, nullptr);
    EXPECT_EQ(tls->value, c.tlsrpt);
    // MTA-STS only on request: its policy needs a web server (check-dns would fail without).
    EXPECT_EQ(find(rs, "_mta-sts.example.com.", "TXT"), nullptr);
    EXPECT_EQ(find(rs, "_25._tcp.mx.example.com.", "TLSA"), nullptr);
    const DnsRecord* a = find(rs, "mx.example.com.", "A");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->value, c.ip4);
    const DnsRecord* aaaa = find(rs, "mx.example.com.", "AAAA");
    ASSERT_NE(aaaa, nullptr);
    EXPECT_EQ(aaaa->value, c.ip6);
    EXPECT_EQ(find(rs, "1.2.0.192.in-addr.arpa.", "PTR") != nullptr, c.has_a);
    std::string zone = to_zone(rs);
    EXPECT_NE(zone.find("example.com. IN MX 10 mx.example.com.\n"), std::string::npos);
    EXPECT_NE(zone.find("_dmarc.example.com. IN TXT \"" + c.dmarc + "\"\n"), std::string::npos);
    EXPECT_EQ(zone.find("mx.example.com. IN A ") == 0 ||
                  zone.find("\nmx.example.com. IN A ") != std::string::npos,
              c.has_a);
    EXPECT_EQ(zone.find("\nmx.example.com. IN AAAA ") != std::string::npos, c.has_aaaa);
  }
}

TEST(DnsRecords, MtaStsOnRequestWithHostAndPolicy) {
  RecordsInput in = base_input();
  in.mta_sts = true;
  std::vector<DnsRecord> rs = records_for(in);
  const DnsRecord* sts = find(rs, "_mta-sts.example.com.", "TXT");
  ASSERT_NE(sts, nullptr);
  EXPECT_EQ(sts->value, "v=STSv1; id=20261123174500");
  EXPECT_NE(sts->note.find("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400"),
            std::string::npos);
  // The policy host is advice (a placeholder), never a record that points at us.
  const DnsRecord* host = find(rs, "mta-sts.example.com.", "A");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->value, "");
  std::string zone = to_zone(rs);
  EXPECT_NE(zone.find("_mta-sts.example.com. IN TXT \"v=STSv1; id=20261123174500\"\n"),
            std::string::npos);
  EXPECT_EQ(zone.find("\nmta-sts.example.com. IN A"), std::string::npos);
  EXPECT_NE(zone.find("; mta-sts.example.com. IN A <its address>"), std::string::npos);
}

TEST(DnsRecords, DaneTlsaRecords) {
  RecordsInput in = base_input();
  in.tlsa = {{"mx.example.com", "3 1 1 0123abcd"}};
  std::vector<DnsRecord> rs = records_for(in);
  const DnsRecord* t = find(rs, "_25._tcp.mx.example.com.", "TLSA");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->value, "3 1 1 0123abcd");
  EXPECT_NE(t->note.find("next"), std::string::npos);  // the rollover advice
  EXPECT_NE(to_zone(rs).find("\n_25._tcp.mx.example.com. IN TLSA 3 1 1 0123abcd\n"),
            std::string::npos);
}

TEST(DnsRecords, CheckTlsRpt) {
  struct Case {
    std::vector<std::string> txt;
    bool present;
    bool ok;
  };
  const Case cases[] = {
      {{}, false, true},
      {{"v=spf1 -all"}, false, true},
      {{"v=TLSRPTv1; rua=mailto:tls@example.com"}, true, true},
      {{"v=TLSRPTv1;rua=mailto:a@example.com, https://r.example.com/tls;"}, true, true},
      {{"v=TLSRPTv1; rua=mailto:a@example.com; ext=1"}, true, true},
      {{"v=TLSRPTv1"}, true, false},                             // no rua
      {{"v=TLSRPTv1; rua=http://r.example.com/"}, true, false},  // http: is not allowed
      {{"v=TLSRPTv1; rua=mailto:nobody"}, true, false},          // no address
      {{"v=TLSRPTv1x; rua=mailto:a@example.com"}, true, false},  // wrong version
      {{"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com"}, true, false},
      {{"v=TLSRPTv1; junk; rua=mailto:a@example.com"}, true, false},  // malformed field
      {{"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"},
       true,
       false},  // RFC 8460 §3: not exactly one
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.txt.empty() ? "" : c.txt.front());
    TlsRptCheck r = check_tlsrpt(c.txt);
    EXPECT_EQ(r.present, c.present);
    EXPECT_EQ(r.problem.empty(), c.ok) << r.problem;
  }
  // What dns-records prints passes.
  std::vector<DnsRecord> rs = records_for(base_input());
  const DnsRecord* t = find(rs, "_smtp._tls.example.com.", "TXT");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(check_tlsrpt({t->value}).problem, "");
}

TEST(DnsRecords, DkimRecordsAndPtrComments) {
  RecordsInput in = base_input();
  in.ip4 = "192.0.2.1";
  in.dkim = {{"s1", "v=DKIM1; k=ed25519; p=abc"}, {"s2", "v=DKIM1; k=rsa; p=def"}};
  std::vector<DnsRecord> rs = records_for(in);
  const DnsRecord* s1 = find(rs, "s1._domainkey.example.com.", "TXT");
  ASSERT_NE(s1, nullptr);
  EXPECT_EQ(s1->value, "v=DKIM1; k=ed25519; p=abc");
  ASSERT_NE(find(rs, "s2._domainkey.example.com.", "TXT"), nullptr);
  std::string zone = to_zone(rs);
  EXPECT_NE(zone.find("s2._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=def\"\n"),
            std::string::npos);
  // The PTR is a request to the provider, never a record of this zone.
  EXPECT_NE(zone.find("; 1.2.0.192.in-addr.arpa. IN PTR mx.example.com.\n"), std::string::npos);
  EXPECT_EQ(zone.find("\n1.2.0.192.in-addr.arpa."), std::string::npos);
  // Every non-comment line is an absolute name.
  size_t start = 0;
  while (start < zone.size()) {
    size_t nl = zone.find('\n', start);
    std::string line = zone.substr(start, nl - start);
    start = nl + 1;
    if (line.empty() || line[0] == ';') {
      continue;
    }
    std::string name = line.substr(0, line.find(' '));
    EXPECT_EQ(name.back(), '.') << line;
  }
}

TEST(DnsRecords, SplitTxt) {
  struct Case {
    size_t length;
    std::vector<size_t> parts;
  };
  const Case cases[] = {
      {0, {0}}, {1, {1}}, {255, {255}}, {256, {255, 1}}, {510, {255, 255}}, {600, {255, 255, 90}},
  };
  for (const Case& c : cases) {
    std::string value(c.length, 'x');
    std::vector<std::string> parts = split_txt(value);
    ASSERT_EQ(parts.size(), c.parts.size()) << c.length;
    std::string joined;
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ(parts[i].size(), c.parts[i]);
      joined += parts[i];
    }
    EXPECT_EQ(joined, value);
  }
}

TEST(DnsRecords, LongTxtInZoneIsSplitAndQuoted) {
  RecordsInput in = base_input();
  std::string p(400, 'A');
  in.dkim = {{"big", "v=DKIM1; k=rsa; p=" + p}};
  std::string zone = to_zone(records_for(in));
  std::string value = "v=DKIM1; k=rsa; p=" + p;
  std::string want = "big._domainkey.example.com. IN TXT ( \"" + value.substr(0, 255) + "\" \"" +
                     value.substr(255) + "\" )\n";
  EXPECT_NE(zone.find(want), std::string::npos) << zone;
}

TEST(DnsRecords, ZoneQuotesEscapes) {
  std::vector<DnsRecord> rs = {{"x.example.", "TXT", "a\"b\\c", ""}};
  EXPECT_EQ(to_zone(rs), "x.example. IN TXT \"a\\\"b\\\\c\"\n\n");
}

TEST(DnsRecords, JsonEscaping) {
  struct Case {
    std::string value;
    std::string json;
  };
  const Case cases[] = {
      {"plain", "\"plain\""},
      {"q\"uote", "\"q\\\"uote\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"line\nbreak\ttab\rcr", "\"line\\nbreak\\ttab\\rcr\""},
      {std::string("nul\0x", 5), "\"nul\\u0000x\""},
      {"\x01\x1f", "\"\\u0001\\u001f\""},
      {"h\xC3\xA9", "\"h\xC3\xA9\""},
  };
  for (const Case& c : cases) {
    std::vector<DnsRecord> rs = {{"n.", "TXT", c.value, ""}};
    EXPECT_EQ(to_json(rs), "[\n  {\"name\": \"n.\", \"type\": \"TXT\", \"value\": " + c.json +
                               ", \"note\": \"\"}\n]\n");
  }
  EXPECT_EQ(to_json({}), "[]\n");
}

TEST(DnsRecords, JsonOfAllRecordsHasOneObjectEach) {
  RecordsInput in = base_input();
  in.ip4 = "192.0.2.1";
  std::vector<DnsRecord> rs = records_for(in);
  std::string json = to_json(rs);
  size_t objects = 0;
  for (size_t pos = json.find("{\"name\""); pos != std::string::npos;
       pos = json.find("{\"name\"", pos + 1)) {
    ++objects;
  }
  EXPECT_EQ(objects, rs.size());
  // The MTA-STS policy note keeps its lines as \n escapes.
  in.mta_sts = true;
  json = to_json(records_for(in));
  EXPECT_NE(json.find("version: STSv1\\nmode: testing"), std::string::npos);
}

TEST(DnsRecords, ReverseName) {
  struct Case {
    std::string ip, want;
  };
  const Case cases[] = {
      {"127.0.0.2", "2.0.0.127.in-addr.arpa."},
      {"192.0.2.10", "10.2.0.192.in-addr.arpa."},
      {"2001:db8::567:89ab",
       "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
      {"not-an-ip", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(reverse_name(c.ip), c.want) << c.ip;
  }
}

}  // namespace
}  // namespace hk::util
