// libFuzzer target: the MTA-STS policy file and TXT record parsers (RFC 8461 §3.1, §3.2) and the
// cache file format, on arbitrary bytes from an untrusted policy server. A policy that parses
// must be whole (mode, at least one mx unless the mode is none, max_age in range) and survive the
// cache round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/mta_sts/mta_sts_policy.hpp"

namespace sts = hk::delivery::sts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)sts::parse_txt_record(in);
  (void)sts::deserialize(in);
  std::optional<sts::Policy> p = sts::parse_policy(in);
  if (!p) {
    return 0;
  }
  // RFC 8461 §3.2: "mx" may be left out only in mode none.
  if ((p->mx.empty() && p->mode != sts::Mode::None) || p->max_age < 0 ||
      p->max_age > sts::kMaxAge) {
    std::abort();
  }
  for (const std::string& m : p->mx) {
    (void)sts::mx_matches(m, "mx.example.com");
  }
  sts::CachedPolicy c{*p, "id1", std::string(in), sts::TimePoint(std::chrono::seconds(1700000000))};
  std::optional<sts::CachedPolicy> back = sts::deserialize(sts::serialize(c));
  if (!back || back->policy != c.policy || back->id != c.id || back->fetched != c.fetched) {
    std::abort();
  }
  return 0;
}
