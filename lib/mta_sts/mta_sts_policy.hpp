// MTA-STS (RFC 8461) as pure functions: the _mta-sts TXT record, the policy file, MX pattern
// matching, the on-disk form of a cached policy and what to do with a cached policy and a TXT
// answer. No I/O here; time is passed in.
// SECURITY: the TXT record and the policy body come from untrusted servers: every field is
// validated, and anything malformed yields "no policy", never an exception.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::delivery::sts {

using TimePoint = std::chrono::system_clock::time_point;

// RFC 8461 §3.2: max_age is at most 31557600 seconds (about one year).
constexpr std::int64_t kMaxAge = 31557600;

enum class Mode { Enforce, Testing, None };
std::string_view to_string(Mode m);

struct Policy {
  Mode mode = Mode::None;
  std::vector<std::string> mx;  // lower case; "*.example.com" or "mx.example.com"
  std::int64_t max_age = 0;     // seconds, 0..kMaxAge

  bool operator==(const Policy&) const = default;
};

// The id of a `v=STSv1; id=...;` TXT record (RFC 8461 §3.1), or nullopt when the record is not
// one or is malformed.
std::optional<std::string> parse_txt_record(std::string_view record);

// RFC 8461 §3.1: of the TXT records at _mta-sts.<domain>, those not starting with "v=STSv1;" are
// discarded; unless exactly one remains and it is valid, the domain has no usable record.
std::optional<std::string> txt_id(const std::vector<std::string>& records);

// The policy file (RFC 8461 §3.2), or nullopt when it is not a valid STSv1 policy.
std::optional<Policy> parse_policy(std::string_view body);

// RFC 8461 §4.1: whether MX host `host` matches `pattern` ("mx.example.com", or "*.example.com",
// whose wildcard stands for exactly one label). Case-insensitive; a trailing dot is ignored.
bool mx_matches(std::string_view pattern, std::string_view host);
bool mx_allowed(const Policy& p, std::string_view host);

// Whether `domain` may have a policy file name: a lower-case host name of letters, digits, '-'
// and '.', 1..253 characters (so never "..", "/" or an address literal).
bool valid_policy_domain(std::string_view domain);

// A policy as kept in the cache: the body as fetched (reparsed on load), the TXT id it was
// fetched under and when.
struct CachedPolicy {
  Policy policy;
  std::string id;
  std::string body;
  TimePoint fetched;

  TimePoint expires() const { return fetched + std::chrono::seconds(policy.max_age); }
  bool valid_at(TimePoint now) const { return now < expires(); }
};

// The file content for data_dir/mta-sts/<domain>, and back; nullopt for anything unreadable.
std::string serialize(const CachedPolicy& c);
std::optional<CachedPolicy> deserialize(std::string_view text);

// What a sender does before delivering (RFC 8461 §3.3, §5.1).
enum class Action {
  NoPolicy,   // no usable TXT record and no unexpired cached policy
  UseCached,  // the cached policy is unexpired and the TXT id (if any) is the cached one
  Fetch,      // a TXT record whose id differs from the cache's (or nothing cached): fetch
};
Action decide(const std::optional<CachedPolicy>& cached, const std::optional<std::string>& id,
              TimePoint now);

}  // namespace hk::delivery::sts
