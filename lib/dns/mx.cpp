// MX target selection: the RFC 5321 §5.1 ordering and the RFC 7505 null MX.
#include "lib/dns/mx.hpp"

#include <algorithm>
#include <cctype>

#include "lib/base/ascii.hpp"
#include "lib/dns/error.hpp"

namespace hk::dns {

namespace {

// Host names compare without case and without a trailing root dot (RFC 4343 §3).
std::string canonical(std::string_view host) {
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  return base::to_lower(host);
}

}  // namespace

bool is_null_mx(const MxRecord& r) { return r.host.empty() || r.host == "."; }

std::vector<std::string> mx_order(const std::vector<MxRecord>& records, std::mt19937& rng) {
  std::vector<MxRecord> usable;
  for (const MxRecord& r : records) {
    if (!is_null_mx(r)) {
      usable.push_back(r);
    }
  }
  std::stable_sort(usable.begin(), usable.end(), [](const MxRecord& x, const MxRecord& y) {
    return x.preference < y.preference;
  });
  // Shuffle each run of equal preference, so that load spreads over equal exchangers.
  for (auto first = usable.begin(); first != usable.end();) {
    auto last = std::find_if(first, usable.end(), [first](const MxRecord& r) {
      return r.preference != first->preference;
    });
    std::shuffle(first, last, rng);
    first = last;
  }
  std::vector<std::string> hosts;
  std::vector<std::string> seen;
  for (const MxRecord& r : usable) {
    std::string key = canonical(r.host);
    if (std::find(seen.begin(), seen.end(), key) == seen.end()) {
      seen.push_back(std::move(key));
      hosts.push_back(r.host);
    }
  }
  return hosts;
}

MxPlan mx_plan(const Answer<MxRecord>& answer) {
  if (answer.ec == Error::NoData || (!answer.ec && answer.records.empty())) {
    return MxPlan::ImplicitMx;
  }
  if (answer.ec) {
    return is_permanent(answer.ec) ? MxPlan::PermanentError : MxPlan::TransientError;
  }
  // RFC 7505 §3: a null MX is the domain's only MX record. Should a domain publish it beside real
  // exchangers anyway, those are used and the null entry is skipped.
  bool all_null = std::all_of(answer.records.begin(), answer.records.end(), is_null_mx);
  return all_null ? MxPlan::NullMx : MxPlan::UseMx;
}

MxTargets mx_targets(const Answer<MxRecord>& answer, std::string_view domain, std::mt19937& rng) {
  MxTargets t{mx_plan(answer), {}};
  if (t.plan == MxPlan::UseMx) {
    t.hosts = mx_order(answer.records, rng);
  } else if (t.plan == MxPlan::ImplicitMx) {
    t.hosts.emplace_back(domain);
  }
  return t;
}

}  // namespace hk::dns
