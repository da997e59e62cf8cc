// DMARC for incoming mail (RFC 7489): the author domain of From: (§6.6.1), policy discovery at
// _dmarc.<domain> (§6.6.3), identifier alignment of SPF and DKIM (§3.1) and the disposition a
// failing message earns (§6.6.4, "pct"). Only discover_policy() and check() query DNS, through
// any dns::Lookup; the rest is pure.
// SECURITY: From: and the DNS answers come from the sender; nothing here throws on them, and the
// number of DNS queries per message is bounded (two per author domain, kMaxAuthorDomains).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dmarc/org_domain.hpp"
#include "lib/dmarc/record.hpp"
#include "lib/dns/lookup.hpp"

namespace hk::dmarc {

// RFC 7489 §11.2 (RFC 8601 §2.7): the results of the "dmarc" method.
enum class Result { None, Pass, Fail, TempError, PermError };
std::string_view to_string(Result r);  // "none", "pass", "fail", "temperror", "permerror"

// §6.6.1: the domains to evaluate, from the addresses of each From: field of the header section.
inline constexpr std::size_t kMaxAuthorDomains = 4;
struct AuthorDomains {
  // Lower-case A-labels, each once, in order. Empty when there is nothing to evaluate.
  std::vector<std::string> domains;
  // Set when the header section breaks RFC 5322 §3.6 in a way §6.6.1 says is "typically
  // rejected": no From: field, several From: fields, or more than kMaxAuthorDomains domains.
  bool malformed = false;
  std::string problem;  // why there is nothing to evaluate, or why it is malformed
};
// `fields` holds one entry per From: field, the addresses found in it (local@domain). A field
// with no address that has a valid domain (a group of nobody, a bare name) is "typically ignored"
// (§6.6.1): no domains, not malformed. Several addresses in one field: each domain is evaluated
// and the strictest failing policy applies (§6.6.1, last paragraph). U-labels become A-labels.
AuthorDomains author_domains(const std::vector<std::vector<std::string>>& fields);

// §3.1.1 / §3.1.2: whether `authenticated` (a DKIM d= or the SPF domain) is aligned with the
// author domain `from`: the same name (strict), or the same Organizational Domain (relaxed).
// ASCII case and a trailing dot do not matter.
bool aligned(std::string_view authenticated, std::string_view from, Alignment mode,
             const PublicSuffixList& psl);

// What SPF and DKIM authenticated for the message.
struct Identifiers {
  bool spf_pass = false;
  std::string spf_domain;  // the MAIL FROM domain, or the HELO name for the null sender (§4.1)
  std::vector<std::string> dkim_pass_domains;  // d= of every signature that verified
};

// §6.6.3: the policy record that applies to an author domain.
struct Discovery {
  enum class Status {
    Found,      // `record` is the policy
    NoRecord,   // no DMARC record at the author domain nor at its Organizational Domain
    Invalid,    // several DMARC records, or one without a usable policy: no DMARC processing
    TempError,  // a DNS failure other than NXDOMAIN / NODATA
  } status = Status::NoRecord;
  Record record;
  std::string domain;           // where it was found (or looked up last): _dmarc.<domain>
  bool organizational = false;  // found at the Organizational Domain of a subdomain's author
  std::string problem;          // for Invalid and TempError
};

// Steps 2 and 5-6 of §6.6.3 for the TXT records found at one name: those that do not start with
// "v=DMARC1" are dropped; exactly one must remain. NoRecord when none does.
Discovery select_record(const std::vector<std::string>& txt, std::string domain);

// §6.6.3 steps 1-6: _dmarc.<from_domain>, and when that has no DMARC record, _dmarc.<its
// Organizational Domain> (if different). NXDOMAIN and NODATA are "no record"; other DNS errors
// are TempError.
boost::asio::awaitable<Discovery> discover_policy(dns::Lookup& dns, const PublicSuffixList& psl,
                                                  std::string from_domain);

// The DMARC verdict for one author domain.
struct Verdict {
  Result result = Result::None;
  std::string from_domain;
  Discovery discovery;
  // The policy the record requests for this author domain: "sp" when the record is the
  // Organizational Domain's and the author a subdomain (and sp is present), "p" otherwise (§6.3).
  Policy policy = Policy::None;
  // What the receiver should do (§6.6.4): `policy` for mail that fails, unless "pct" leaves the
  // message out of the sample: then "reject" becomes "quarantine" and "quarantine" becomes
  // "none". Always None unless the result is Fail.
  Policy disposition = Policy::None;
  bool sampled_out = false;
  bool spf_aligned = false;
  bool dkim_aligned = false;
  std::string dkim_domain;  // the first aligned d= that passed
};

// Pure: the verdict from a discovery and the authenticated identifiers. `sample` is a number in
// [0, 100) drawn for the message: the policy applies when sample < pct (§6.6.4).
Verdict evaluate(const Discovery& discovery, std::string from_domain, const Identifiers& ids,
                 const PublicSuffixList& psl, int sample);

// discover_policy() then evaluate().
boost::asio::awaitable<Verdict> check(dns::Lookup& dns, const PublicSuffixList& psl,
                                      std::string from_domain, Identifiers ids, int sample);

// A uniformly random sample in [0, 100) for evaluate(): "pct" is honoured at random, as §6.6.4
// asks ("a random sample"), from a generator per thread.
int random_sample();

// The strictest of two dispositions (none < quarantine < reject).
Policy strictest(Policy a, Policy b);

// What a receiver that enforces DMARC does with a message.
struct Decision {
  Policy action = Policy::None;  // None: deliver as usual
  std::string domain;            // the author domain whose policy decided; empty for a bad From:
  std::string reason;            // for the reply, the log and the quarantine marker
};
// The strictest disposition among the verdicts of a message's author domains (§6.6.1: "apply the
// most strict policy selected among the checks that fail"; the first of equals). A From: that
// author_domains() found malformed is rejected, as §6.6.1 says such mail typically is: a second
// From: field must not be a way around a p=reject.
Decision decide(const AuthorDomains& author, const std::vector<Verdict>& verdicts);

// The text of the Authentication-Results comment for a verdict, e.g. "p=reject sp=none pct=100
// dis=reject" or, when the policy is not enforced, "p=reject dis=none, not enforced"; the problem
// for permerror and temperror; "no policy" for none.
std::string describe(const Verdict& v, bool enforced);

}  // namespace hk::dmarc
