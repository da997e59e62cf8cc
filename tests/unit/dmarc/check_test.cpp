// DMARC evaluation: author domains (§6.6.1), alignment (§3.1), policy discovery (§6.6.3) over an
// in-memory zone, and the disposition with sp and pct (§6.3, §6.6.4).
#include "lib/dmarc/check.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "tests/support/run.hpp"
#include "tests/unit/spf/memory_dns.hpp"

namespace hk::dmarc {
namespace {

namespace asio = boost::asio;

const PublicSuffixList& psl() {
  static const PublicSuffixList list = PublicSuffixList::system();
  return list;
}

TEST(DmarcAuthor, OneFieldOneAddress) {
  AuthorDomains a = author_domains({{"alice@Example.COM"}});
  EXPECT_EQ(a.domains, (std::vector<std::string>{"example.com"}));
  EXPECT_FALSE(a.malformed);
}

TEST(DmarcAuthor, ULabelBecomesALabel) {
  AuthorDomains a = author_domains({{"a@bücher.example"}});
  EXPECT_EQ(a.domains, (std::vector<std::string>{"xn--bcher-kva.example"}));
}

TEST(DmarcAuthor, NoFieldOrSeveralFieldsAreMalformed) {
  AuthorDomains none = author_domains({});
  EXPECT_TRUE(none.malformed);
  EXPECT_TRUE(none.domains.empty());
  EXPECT_EQ(none.problem, "no From: field");
  AuthorDomains two = author_domains({{"a@example.com"}, {"b@example.com"}});
  EXPECT_TRUE(two.malformed);
  EXPECT_TRUE(two.domains.empty());
  EXPECT_EQ(two.problem, "2 From: fields");
}

TEST(DmarcAuthor, SeveralAddressesGiveEachDomainOnce) {
  AuthorDomains a =
      author_domains({{"a@example.com", "b@EXAMPLE.com", "c@example.net", "d@example.org"}});
  EXPECT_EQ(a.domains, (std::vector<std::string>{"example.com", "example.net", "example.org"}));
  EXPECT_FALSE(a.malformed);
}

TEST(DmarcAuthor, TooManyDomainsAreMalformed) {
  AuthorDomains a =
      author_domains({{"a@a.example", "b@b.example", "c@c.example", "d@d.example", "e@e.example"}});
  EXPECT_TRUE(a.malformed);
  EXPECT_TRUE(a.domains.empty());
}

TEST(DmarcAuthor, NoUsableDomainIsIgnored) {
  for (auto fields : std::vector<std::vector<std::vector<std::string>>>{
           {{}}, {{"undisclosed"}}, {{"a@"}}, {{"a@[192.0.2.1]"}}, {{"a@-bad-.example"}}}) {
    AuthorDomains a = author_domains(fields);
    EXPECT_TRUE(a.domains.empty());
    EXPECT_FALSE(a.malformed);
    EXPECT_EQ(a.problem, "no domain in From:");
  }
}

// The alignment matrix of §3.1: strict needs the same name, relaxed the same Organizational
// Domain; the same for SPF and DKIM (one function serves both, evaluate() picks the mode).
TEST(DmarcAlignment, Matrix) {
  struct Case {
    const char* authenticated;
    const char* from;
    bool relaxed;
    bool strict;
  } cases[] = {
      {"example.com", "example.com", true, true},
      {"EXAMPLE.com.", "example.COM", true, true},
      {"mail.example.com", "example.com", true, false},
      {"example.com", "news.example.com", true, false},
      {"a.example.com", "b.example.com", true, false},
      {"example.net", "example.com", false, false},
      {"example.co.uk", "other.co.uk", false, false},  // co.uk is a public suffix
      {"mail.example.co.uk", "example.co.uk", true, false},
      {"sub.dom.test", "dom.test", true, false},
      {"dom.test", "other.test", false, false},
      {"", "example.com", false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(aligned(c.authenticated, c.from, Alignment::Relaxed, psl()), c.relaxed)
        << c.authenticated << " / " << c.from;
    EXPECT_EQ(aligned(c.authenticated, c.from, Alignment::Strict, psl()), c.strict)
        << c.authenticated << " / " << c.from;
  }
}

Discovery found(const char* record, bool organizational = false) {
  Discovery d = select_record({record}, "example.com");
  d.organizational = organizational;
  return d;
}

Identifiers spf_pass(const char* domain) {
  Identifiers ids;
  ids.spf_pass = true;
  ids.spf_domain = domain;
  return ids;
}
Identifiers dkim_pass(const char* domain) {
  Identifiers ids;
  ids.dkim_pass_domains = {domain};
  return ids;
}
Identifiers spf_fail(const char* domain) {
  Identifiers ids;
  ids.spf_domain = domain;
  return ids;
}

// Every combination of SPF/DKIM x relaxed/strict against From: example.com.
TEST(DmarcEvaluate, AlignmentPerMechanismAndMode) {
  struct Case {
    const char* record;
    Identifiers ids;
    Result result;
    bool spf_aligned;
    bool dkim_aligned;
  } cases[] = {
      {"v=DMARC1; p=reject", spf_pass("example.com"), Result::Pass, true, false},
      {"v=DMARC1; p=reject", spf_pass("bounce.example.com"), Result::Pass, true, false},
      {"v=DMARC1; p=reject; aspf=s", spf_pass("bounce.example.com"), Result::Fail, false, false},
      {"v=DMARC1; p=reject; aspf=s", spf_pass("example.com"), Result::Pass, true, false},
      {"v=DMARC1; p=reject", spf_fail("example.com"), Result::Fail, false, false},
      {"v=DMARC1; p=reject", spf_pass("example.net"), Result::Fail, false, false},
      {"v=DMARC1; p=reject", dkim_pass("example.com"), Result::Pass, false, true},
      {"v=DMARC1; p=reject", dkim_pass("sig.example.com"), Result::Pass, false, true},
      {"v=DMARC1; p=reject; adkim=s", dkim_pass("sig.example.com"), Result::Fail, false, false},
      {"v=DMARC1; p=reject; adkim=s", dkim_pass("example.com"), Result::Pass, false, true},
      {"v=DMARC1; p=reject", dkim_pass("example.net"), Result::Fail, false, false},
      // Strict DKIM does not make SPF strict, nor the other way round.
      {"v=DMARC1; p=reject; adkim=s", spf_pass("bounce.example.com"), Result::Pass, true, false},
      {"v=DMARC1; p=reject; aspf=s", dkim_pass("sig.example.com"), Result::Pass, false, true},
      {"v=DMARC1; p=reject", {}, Result::Fail, false, false},
  };
  for (const Case& c : cases) {
    Verdict v = evaluate(found(c.record), "example.com", c.ids, psl(), 0);
    EXPECT_EQ(v.result, c.result) << c.record << " spf=" << c.ids.spf_domain;
    EXPECT_EQ(v.spf_aligned, c.spf_aligned) << c.record;
    EXPECT_EQ(v.dkim_aligned, c.dkim_aligned) << c.record;
    EXPECT_EQ(v.disposition, c.result == Result::Fail ? Policy::Reject : Policy::None);
  }
}

TEST(DmarcEvaluate, AnyPassingSignatureMayAlign) {
  Identifiers ids;
  ids.dkim_pass_domains = {"example.net", "Mail.Example.com"};
  Verdict v = evaluate(found("v=DMARC1; p=quarantine"), "example.com", ids, psl(), 0);
  EXPECT_EQ(v.result, Result::Pass);
  EXPECT_EQ(v.dkim_domain, "mail.example.com");
}

TEST(DmarcEvaluate, SubdomainPolicyOnlyFromTheOrganizationalDomain) {
  const char* record = "v=DMARC1; p=reject; sp=quarantine";
  EXPECT_EQ(evaluate(found(record, true), "sub.example.com", {}, psl(), 0).disposition,
            Policy::Quarantine);
  EXPECT_EQ(evaluate(found(record, false), "example.com", {}, psl(), 0).disposition,
            Policy::Reject);
  // Without sp, p covers the subdomains too.
  EXPECT_EQ(evaluate(found("v=DMARC1; p=reject", true), "sub.example.com", {}, psl(), 0).policy,
            Policy::Reject);
}

// §6.6.4: out of the pct sample, reject becomes quarantine and quarantine becomes none.
TEST(DmarcEvaluate, PctSample) {
  Verdict in = evaluate(found("v=DMARC1; p=reject; pct=30"), "example.com", {}, psl(), 29);
  EXPECT_EQ(in.disposition, Policy::Reject);
  EXPECT_FALSE(in.sampled_out);
  Verdict out = evaluate(found("v=DMARC1; p=reject; pct=30"), "example.com", {}, psl(), 30);
  EXPECT_EQ(out.result, Result::Fail);
  EXPECT_EQ(out.policy, Policy::Reject);
  EXPECT_EQ(out.disposition, Policy::Quarantine);
  EXPECT_TRUE(out.sampled_out);
  EXPECT_EQ(
      evaluate(found("v=DMARC1; p=quarantine; pct=0"), "example.com", {}, psl(), 0).disposition,
      Policy::None);
  EXPECT_EQ(evaluate(found("v=DMARC1; p=reject"), "example.com", {}, psl(), 99).disposition,
            Policy::Reject);
}

TEST(DmarcEvaluate, RandomSampleStaysInRange) {
  int low = 100, high = -1;
  for (int i = 0; i < 2000; ++i) {
    int s = random_sample();
    low = std::min(low, s);
    high = std::max(high, s);
  }
  EXPECT_EQ(low, 0);
  EXPECT_EQ(high, 99);
}

TEST(DmarcSelect, RecordsThatAreNotDmarcAreDropped) {
  Discovery d = select_record({"v=spf1 -all", "v=DMARC1; p=quarantine", "hello"}, "example.com");
  EXPECT_EQ(d.status, Discovery::Status::Found);
  EXPECT_EQ(d.record.p, Policy::Quarantine);
  EXPECT_EQ(select_record({"v=spf1 -all"}, "example.com").status, Discovery::Status::NoRecord);
  EXPECT_EQ(select_record({}, "example.com").status, Discovery::Status::NoRecord);
}

TEST(DmarcSelect, SeveralRecordsOrAnUnusableOneMeanNoPolicy) {
  Discovery two = select_record({"v=DMARC1; p=none", "v=DMARC1; p=reject"}, "example.com");
  EXPECT_EQ(two.status, Discovery::Status::Invalid);
  EXPECT_EQ(two.problem, "several DMARC records at _dmarc.example.com");
  Discovery bad = select_record({"v=DMARC1; p=never"}, "example.com");
  EXPECT_EQ(bad.status, Discovery::Status::Invalid);
  Verdict v = evaluate(bad, "example.com", {}, psl(), 0);
  EXPECT_EQ(v.result, Result::PermError);
  EXPECT_EQ(v.disposition, Policy::None);
}

class DmarcDiscovery : public ::testing::Test {
 protected:
  Verdict run_check(const std::string& from, Identifiers ids = {}, int sample = 0) {
    auto v = hk::test::run(io_, check(dns_, psl(), from, std::move(ids), sample));
    EXPECT_TRUE(v);
    return v ? *v : Verdict{};
  }

  asio::io_context io_;
  spf::test::MemoryDns dns_;
};

TEST_F(DmarcDiscovery, RecordAtTheAuthorDomain) {
  dns_.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; sp=none");
  Verdict v = run_check("example.com");
  EXPECT_EQ(v.result, Result::Fail);
  EXPECT_EQ(v.policy, Policy::Reject);  // sp is for subdomains only
  EXPECT_EQ(v.discovery.domain, "example.com");
  EXPECT_FALSE(v.discovery.organizational);
  EXPECT_EQ(describe(v, true), "p=reject sp=none dis=reject");
  EXPECT_EQ(describe(v, false), "p=reject sp=none dis=none, not enforced: reject");
}

TEST_F(DmarcDiscovery, FallbackToTheOrganizationalDomain) {
  dns_.add("_dmarc.example.co.uk", "TXT", "v=DMARC1; p=reject; sp=quarantine");
  Verdict v = run_check("deep.sub.example.co.uk");
  EXPECT_EQ(v.result, Result::Fail);
  EXPECT_EQ(v.discovery.domain, "example.co.uk");
  EXPECT_TRUE(v.discovery.organizational);
  EXPECT_EQ(v.policy, Policy::Quarantine);
  // Relaxed SPF alignment with the Organizational Domain passes.
  Verdict pass = run_check("deep.sub.example.co.uk", spf_pass("example.co.uk"));
  EXPECT_EQ(pass.result, Result::Pass);
  EXPECT_EQ(describe(pass, true), "p=reject sp=quarantine dis=none");
}

TEST_F(DmarcDiscovery, TheAuthorDomainsOwnRecordWins) {
  dns_.add("_dmarc.sub.example.com", "TXT", "v=DMARC1; p=none");
  dns_.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject");
  Verdict v = run_check("sub.example.com");
  EXPECT_EQ(v.discovery.domain, "sub.example.com");
  EXPECT_EQ(v.policy, Policy::None);
  EXPECT_EQ(v.result, Result::Fail);
  EXPECT_EQ(v.disposition, Policy::None);
}

// §6.6.3 step 3 asks for the Organizational Domain only when the set at the author domain is
// empty: several records there end discovery.
TEST_F(DmarcDiscovery, SeveralRecordsAtTheAuthorDomainDoNotFallBack) {
  dns_.add("_dmarc.sub.example.com", "TXT", "v=DMARC1; p=none");
  dns_.add("_dmarc.sub.example.com", "TXT", "v=DMARC1; p=quarantine");
  dns_.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject");
  Verdict v = run_check("sub.example.com");
  EXPECT_EQ(v.result, Result::PermError);
  EXPECT_EQ(v.disposition, Policy::None);
}

TEST_F(DmarcDiscovery, NonDmarcTxtAtTheAuthorDomainFallsBack) {
  dns_.add("_dmarc.sub.example.com", "TXT", "v=spf1 -all");
  dns_.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject");
  EXPECT_EQ(run_check("sub.example.com").discovery.domain, "example.com");
}

TEST_F(DmarcDiscovery, NoRecordAnywhere) {
  dns_.add("example.com", "TXT", "v=spf1 -all");  // exists, but no _dmarc
  Verdict v = run_check("mail.example.com", spf_pass("mail.example.com"));
  EXPECT_EQ(v.result, Result::None);
  EXPECT_EQ(describe(v, true), "no policy");
}

TEST_F(DmarcDiscovery, DnsFailureIsTempError) {
  dns_.add("_dmarc.example.com", "TIMEOUT", "");
  Verdict v = run_check("example.com");
  EXPECT_EQ(v.result, Result::TempError);
  EXPECT_EQ(v.disposition, Policy::None);
  EXPECT_NE(describe(v, true).find("_dmarc.example.com"), std::string::npos);
  // At the Organizational Domain too.
  Verdict org = run_check("sub.example.com");
  EXPECT_EQ(org.result, Result::TempError);
}

TEST_F(DmarcDiscovery, UnknownTldUsesTheDefaultRule) {
  dns_.add("_dmarc.dom.test", "TXT", "v=DMARC1; p=quarantine");
  Verdict v = run_check("sub.dom.test", dkim_pass("other.dom.test"));
  EXPECT_EQ(v.result, Result::Pass);
  EXPECT_TRUE(v.discovery.organizational);
}

TEST_F(DmarcDiscovery, PctInTheRecord) {
  dns_.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; pct=50");
  EXPECT_EQ(run_check("example.com", {}, 49).disposition, Policy::Reject);
  Verdict out = run_check("example.com", {}, 50);
  EXPECT_EQ(out.disposition, Policy::Quarantine);
  EXPECT_EQ(describe(out, true), "p=reject pct=50 dis=quarantine");
}

Verdict verdict(const char* domain, Result result, Policy disposition) {
  Verdict v;
  v.from_domain = domain;
  v.result = result;
  v.disposition = disposition;
  return v;
}

// §6.6.1: with several author domains, the strictest failing policy applies.
TEST(DmarcDecide, StrictestAmongAuthorDomains) {
  AuthorDomains author = author_domains({{"a@a.example", "b@b.example", "c@c.example"}});
  std::vector<Verdict> verdicts = {verdict("a.example", Result::Pass, Policy::None),
                                   verdict("b.example", Result::Fail, Policy::Quarantine),
                                   verdict("c.example", Result::Fail, Policy::Reject)};
  Decision d = decide(author, verdicts);
  EXPECT_EQ(d.action, Policy::Reject);
  EXPECT_EQ(d.domain, "c.example");
  EXPECT_EQ(d.reason,
            "Message rejected: the DMARC policy of c.example is reject, and neither SPF nor DKIM "
            "authenticated that domain");
  verdicts.pop_back();
  d = decide(author, verdicts);
  EXPECT_EQ(d.action, Policy::Quarantine);
  EXPECT_EQ(d.reason, "dmarc p=quarantine header.from=b.example");
  verdicts.pop_back();
  EXPECT_EQ(decide(author, verdicts).action, Policy::None);
  EXPECT_EQ(decide(author, {}).action, Policy::None);
}

TEST(DmarcDecide, MalformedFromIsRejected) {
  Decision d = decide(author_domains({{"a@a.example"}, {"b@b.example"}}), {});
  EXPECT_EQ(d.action, Policy::Reject);
  EXPECT_EQ(d.reason, "Message refused: 2 From: fields, which DMARC (RFC 7489) cannot evaluate");
  EXPECT_EQ(decide(author_domains({}), {}).action, Policy::Reject);
  // A From: without a usable domain is ignored, not refused.
  EXPECT_EQ(decide(author_domains({{"undisclosed"}}), {}).action, Policy::None);
}

TEST(DmarcStrictest, Order) {
  EXPECT_EQ(strictest(Policy::None, Policy::Quarantine), Policy::Quarantine);
  EXPECT_EQ(strictest(Policy::Reject, Policy::Quarantine), Policy::Reject);
  EXPECT_EQ(strictest(Policy::None, Policy::None), Policy::None);
}

}  // namespace
}  // namespace hk::dmarc
