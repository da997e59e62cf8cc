// MX target selection for delivery (RFC 5321 §5.1, RFC 7505): what to do with an MX answer, and
// the order in which to try the exchangers. Pure functions.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dns/answer.hpp"

namespace hk::dns {

// True for the null MX of RFC 7505 §3: an exchange of "." (which c-ares reports as "").
bool is_null_mx(const MxRecord& r);

// Exchange hosts by ascending preference, in random order among equal preferences
// (RFC 5321 §5.1). Null MX entries are left out; a host listed twice is kept once, at its best
// preference.
std::vector<std::string> mx_order(const std::vector<MxRecord>& records, std::mt19937& rng);

enum class MxPlan {
  UseMx,           // deliver to the exchangers, in mx_order()
  ImplicitMx,      // no MX (NODATA): the domain itself is the exchanger (RFC 5321 §5.1)
  NullMx,          // the domain accepts no mail: fail permanently (RFC 7505 §3, code 556)
  PermanentError,  // the domain does not exist (NXDOMAIN) or its name is malformed
  TransientError,  // SERVFAIL, timeout, refusal, an unreadable answer: try again later
};

MxPlan mx_plan(const Answer<MxRecord>& answer);

struct MxTargets {
  MxPlan plan;
  std::vector<std::string> hosts;  // UseMx: mx_order(); ImplicitMx: the domain; else empty
};

// mx_plan() and the hosts to try, for `domain`'s MX answer.
MxTargets mx_targets(const Answer<MxRecord>& answer, std::string_view domain, std::mt19937& rng);

}  // namespace hk::dns
