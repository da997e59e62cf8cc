// DMARC evaluation: author domains, policy discovery, alignment and disposition (RFC 7489 §3.1,
// §6.6).
#include "lib/dmarc/check.hpp"

#include <algorithm>
#include <random>

#include "lib/base/ascii.hpp"
#include "lib/dns/error.hpp"
#include "lib/smtp/domain.hpp"

namespace hk::dmarc {
namespace {

namespace asio = boost::asio;

std::string canonical(std::string_view name) {
  std::string out = base::to_lower(name);
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// RFC 1035 §2.3.4: 253 octets without the root dot; "_dmarc." + a longer name cannot be asked.
constexpr std::size_t kMaxName = 253;

int rank(Policy p) {
  switch (p) {
    case Policy::None:
      return 0;
    case Policy::Quarantine:
      return 1;
    case Policy::Reject:
      return 2;
  }
  return 0;
}

// §6.6.4: a failing message left out of the "pct" sample gets the next milder treatment.
Policy milder(Policy p) { return p == Policy::Reject ? Policy::Quarantine : Policy::None; }

}  // namespace

std::string_view to_string(Result r) {
  switch (r) {
    case Result::None:
      return "none";
    case Result::Pass:
      return "pass";
    case Result::Fail:
      return "fail";
    case Result::TempError:
      return "temperror";
    case Result::PermError:
      return "permerror";
  }
  return "none";
}

AuthorDomains author_domains(const std::vector<std::vector<std::string>>& fields) {
  AuthorDomains out;
  if (fields.empty()) {
    out.malformed = true;
    out.problem = "no From: field";
    return out;
  }
  if (fields.size() > 1) {
    out.malformed = true;
    out.problem = std::to_string(fields.size()) + " From: fields";
    return out;
  }
  for (const std::string& address : fields.front()) {
    size_t at = address.rfind('@');
    if (at == std::string::npos) {
      continue;
    }
    std::string domain = smtp::normalize_domain(address.substr(at + 1));
    if (domain.empty() ||
        std::find(out.domains.begin(), out.domains.end(), domain) != out.domains.end()) {
      continue;
    }
    if (out.domains.size() == kMaxAuthorDomains) {
      out.domains.clear();
      out.malformed = true;
      out.problem = "more than " + std::to_string(kMaxAuthorDomains) + " domains in From:";
      return out;
    }
    out.domains.push_back(std::move(domain));
  }
  if (out.domains.empty()) {
    out.problem = "no domain in From:";
  }
  return out;
}

bool aligned(std::string_view authenticated, std::string_view from, Alignment mode,
             const PublicSuffixList& psl) {
  std::string a = canonical(authenticated);
  std::string f = canonical(from);
  if (a.empty() || f.empty()) {
    return false;
  }
  if (a == f) {
    return true;
  }
  return mode == Alignment::Relaxed && psl.organizational_domain(a) == psl.organizational_domain(f);
}

Discovery select_record(const std::vector<std::string>& txt, std::string domain) {
  Discovery out;
  out.domain = std::move(domain);
  int found = 0;
  for (const std::string& text : txt) {
    ParsedRecord parsed = parse_record(text);
    if (parsed.kind == RecordKind::NotDmarc) {
      continue;
    }
    if (++found > 1) {
      out.status = Discovery::Status::Invalid;
      out.problem = "several DMARC records at _dmarc." + out.domain;
      return out;
    }
    if (parsed.kind == RecordKind::Invalid) {
      out.status = Discovery::Status::Invalid;
      out.problem = parsed.error + " at _dmarc." + out.domain;
    } else {
      out.status = Discovery::Status::Found;
      out.record = std::move(parsed.record);
    }
  }
  return out;
}

asio::awaitable<Discovery> discover_policy(dns::Lookup& dns, const PublicSuffixList& psl,
                                           std::string from_domain) {
  from_domain = canonical(from_domain);
  const std::string org = psl.organizational_domain(from_domain);
  Discovery out;
  const std::string* const domains[] = {&from_domain, &org};
  for (const std::string* domain : domains) {
    if (domain == &org && org == from_domain) {
      break;
    }
    out.domain = *domain;
    const std::string name = "_dmarc." + *domain;
    if (name.size() > kMaxName) {
      continue;
    }
    dns::Answer<std::string> answer = co_await dns.txt(name);
    if (answer.ec && answer.ec != dns::Error::NxDomain && answer.ec != dns::Error::NoData) {
      out.status = Discovery::Status::TempError;
      out.problem = "DNS error for " + name + ": " + answer.ec.message();
      co_return out;
    }
    out = select_record(answer.records, *domain);
    if (out.status != Discovery::Status::NoRecord) {
      out.organizational = domain == &org;
      co_return out;
    }
  }
  co_return out;
}

Verdict evaluate(const Discovery& discovery, std::string from_domain, const Identifiers& ids,
                 const PublicSuffixList& psl, int sample) {
  Verdict v;
  v.from_domain = canonical(from_domain);
  v.discovery = discovery;
  switch (discovery.status) {
    case Discovery::Status::NoRecord:
      v.result = Result::None;
      return v;
    case Discovery::Status::Invalid:
      v.result = Result::PermError;
      return v;
    case Discovery::Status::TempError:
      v.result = Result::TempError;
      return v;
    case Discovery::Status::Found:
      break;
  }
  const Record& r = discovery.record;
  v.policy = discovery.organizational && r.sp ? *r.sp : r.p;
  v.spf_aligned = ids.spf_pass && aligned(ids.spf_domain, v.from_domain, r.aspf, psl);
  for (const std::string& d : ids.dkim_pass_domains) {
    if (aligned(d, v.from_domain, r.adkim, psl)) {
      v.dkim_aligned = true;
      v.dkim_domain = canonical(d);
      break;
    }
  }
  if (v.spf_aligned || v.dkim_aligned) {
    v.result = Result::Pass;
    return v;
  }
  v.result = Result::Fail;
  v.sampled_out = sample >= r.pct;
  v.disposition = v.sampled_out ? milder(v.policy) : v.policy;
  return v;
}

asio::awaitable<Verdict> check(dns::Lookup& dns, const PublicSuffixList& psl,
                               std::string from_domain, Identifiers ids, int sample) {
  Discovery discovery = co_await discover_policy(dns, psl, from_domain);
  co_return evaluate(discovery, std::move(from_domain), ids, psl, sample);
}

int random_sample() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, 99)(rng);
}

Policy strictest(Policy a, Policy b) { return rank(a) >= rank(b) ? a : b; }

Decision decide(const AuthorDomains& author, const std::vector<Verdict>& verdicts) {
  Decision out;
  if (author.malformed) {
    out.action = Policy::Reject;
    out.reason = "Message refused: " + author.problem + ", which DMARC (RFC 7489) cannot evaluate";
    return out;
  }
  const Verdict* worst = nullptr;
  for (const Verdict& v : verdicts) {
    if (worst == nullptr || rank(v.disposition) > rank(worst->disposition)) {
      worst = &v;
    }
  }
  if (worst == nullptr || worst->disposition == Policy::None) {
    return out;
  }
  out.action = worst->disposition;
  out.domain = worst->from_domain;
  if (out.action == Policy::Reject) {
    out.reason = "Message rejected: the DMARC policy of " + out.domain +
                 " is reject, and neither SPF nor DKIM authenticated that domain";
  } else {
    out.reason = "dmarc p=quarantine header.from=" + out.domain;
  }
  return out;
}

std::string describe(const Verdict& v, bool enforced) {
  switch (v.result) {
    case Result::None:
      return "no policy";
    case Result::TempError:
    case Result::PermError:
      return v.discovery.problem;
    case Result::Pass:
    case Result::Fail:
      break;
  }
  const Record& r = v.discovery.record;
  std::string out = "p=" + std::string(to_string(r.p));
  if (r.sp) {
    out += " sp=" + std::string(to_string(*r.sp));
  }
  if (r.pct != 100) {
    out += " pct=" + std::to_string(r.pct);
  }
  if (v.result == Result::Pass) {
    return out + " dis=none";
  }
  if (!enforced && v.disposition != Policy::None) {
    return out + " dis=none, not enforced: " + std::string(to_string(v.disposition));
  }
  return out + " dis=" + std::string(to_string(v.disposition));
}

}  // namespace hk::dmarc
