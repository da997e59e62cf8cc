// MTA-STS records, policies, MX patterns and the cache file format (RFC 8461 §3, §4.1).
#include "lib/mta_sts/mta_sts_policy.hpp"

#include <algorithm>
#include <charconv>

#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"
#include "lib/base/tag_value.hpp"
#include "lib/base/text.hpp"

namespace hk::delivery::sts {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
using base::is_alnum;

std::string_view trim(std::string_view s) { return base::trim(s); }

std::string lower(std::string_view s) { return base::to_lower(s); }

// A host name of LDH labels (RFC 1035 §2.3.1, RFC 5890 A-labels included), in lower case.
bool valid_host(std::string_view s) {
  return base::is_domain_name(s, {.chars = base::LabelChars::LdhLower});
}

std::string_view strip_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) {
    return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::Enforce:
      return "enforce";
    case Mode::Testing:
      return "testing";
    case Mode::None:
      return "none";
  }
  return "none";
}

std::optional<std::string> parse_txt_record(std::string_view record) {
  // RFC 8461 §3.1: sts-version is exactly "v=STSv1" (case-sensitive) and comes first.
  constexpr std::string_view kVersion = "v=STSv1";
  if (record.substr(0, kVersion.size()) != kVersion) {
    return std::nullopt;
  }
  // Extensions may repeat (§3.1 does not forbid it) and are ignored after the syntax check.
  base::TagList list = base::parse_tag_list(
      record, {.grammar = base::TagGrammar::Rfc8461, .duplicates_allowed = true});
  if (!list.ok() || list.tags.front().value != "STSv1") {
    return std::nullopt;
  }
  std::optional<std::string> id;
  for (size_t i = 1; i < list.tags.size(); ++i) {
    const base::Tag& tag = list.tags[i];
    if (tag.name == "id") {
      // sts-id = "id=" 1*32(ALPHA / DIGIT); a second id makes the record ambiguous.
      if (id || tag.value.size() > 32 ||
          !std::all_of(tag.value.begin(), tag.value.end(), is_alnum)) {
        return std::nullopt;
      }
      id = tag.value;
    }
  }
  return id;
}

std::optional<std::string> txt_id(const std::vector<std::string>& records) {
  std::vector<const std::string*> sts;
  for (const std::string& r : records) {
    // "v=STSv1" must be followed by the delimiter for the record to count as ours (§3.1).
    std::string_view v(r);
    if (v.substr(0, 7) == "v=STSv1" && (v.size() == 7 || is_wsp(v[7]) || v[7] == ';')) {
      sts.push_back(&r);
    }
  }
  if (sts.size() != 1) {
    return std::nullopt;
  }
  return parse_txt_record(*sts.front());
}

std::optional<Policy> parse_policy(std::string_view body) {
  Policy p;
  bool have_version = false, have_mode = false, have_max_age = false;
  while (!body.empty()) {
    // sts-policy-term-sep = CRLF / LF (§3.2).
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (trim(line).empty()) {
      continue;  // a blank line (e.g. the trailing one) carries no field
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return std::nullopt;
    }
    std::string_view name = line.substr(0, colon);
    // field-delim = ":" *WSP, and each field may be followed by *WSP.
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "version") {
      if (have_version || value != "STSv1") {
        return std::nullopt;
      }
      have_version = true;
    } else if (name == "mode") {
      if (have_mode) {
        return std::nullopt;
      }
      if (value == "enforce") {
        p.mode = Mode::Enforce;
      } else if (value == "testing") {
        p.mode = Mode::Testing;
      } else if (value == "none") {
        p.mode = Mode::None;
      } else {
        return std::nullopt;
      }
      have_mode = true;
    } else if (name == "max_age") {
      // max-age-value = 1*10DIGIT. A larger value than the RFC's maximum is clamped rather than
      // refused, so that an over-eager policy still protects.
      if (have_max_age || value.size() > 10 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          !parse_int(value, p.max_age)) {
        return std::nullopt;
      }
      p.max_age = std::min(p.max_age, kMaxAge);
      have_max_age = true;
    } else if (name == "mx") {
      std::string pattern = lower(strip_dot(value));
      std::string_view host(pattern);
      if (host.substr(0, 2) == "*.") {
        host.remove_prefix(2);
      }
      if (!valid_host(host)) {
        return std::nullopt;
      }
      if (p.mx.size() >= 256) {
        return std::nullopt;  // no real domain lists that many; bounds the work per delivery
      }
      p.mx.push_back(std::move(pattern));
    }
    // Any other field is an extension and is ignored (§3.2).
  }
  // version, mode and max_age are required; "mx" may be left out only in mode none (§3.2).
  if (!have_version || !have_mode || !have_max_age) {
    return std::nullopt;
  }
  if (p.mode != Mode::None && p.mx.empty()) {
    return std::nullopt;
  }
  return p;
}

bool mx_matches(std::string_view pattern, std::string_view host) {
  std::string h = lower(strip_dot(host));
  std::string pat = lower(strip_dot(pattern));
  if (h.empty() || pat.empty()) {
    return false;
  }
  if (pat.rfind("*.", 0) == 0) {
    // §4.1: the wildcard matches exactly one label, the host's leftmost one.
    size_t dot = h.find('.');
    return dot != std::string::npos && dot > 0 &&
           h.compare(dot + 1, std::string::npos, pat, 2) == 0;
  }
  return h == pat;
}

bool mx_allowed(const Policy& p, std::string_view host) {
  return std::any_of(p.mx.begin(), p.mx.end(),
                     [&](const std::string& pat) { return mx_matches(pat, host); });
}

bool valid_policy_domain(std::string_view domain) { return valid_host(domain); }

namespace {
constexpr std::string_view kMagic = "hikyaku-mta-sts 1\n";
}

std::string serialize(const CachedPolicy& c) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(c.fetched.time_since_epoch());
  return std::string(kMagic) + "id " + c.id + "\nfetched " + std::to_string(secs.count()) + "\n\n" +
         c.body;
}

std::optional<CachedPolicy> deserialize(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) {
    return std::nullopt;
  }
  text.remove_prefix(kMagic.size());
  size_t end = text.find("\n\n");
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view head = text.substr(0, end);
  std::string_view body = text.substr(end + 2);
  size_t nl = head.find('\n');
  if (nl == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view id_line = head.substr(0, nl), time_line = head.substr(nl + 1);
  if (id_line.substr(0, 3) != "id " || time_line.substr(0, 8) != "fetched ") {
    return std::nullopt;
  }
  CachedPolicy c;
  c.id = std::string(id_line.substr(3));
  std::int64_t secs = 0;
  // The time must fit system_clock's duration with max_age added (expires()): converting a
  // larger count of seconds overflows (found by the mta_sts_policy fuzz target).
  constexpr std::int64_t kMaxFetched =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() -
      kMaxAge;
  if (!parse_txt_record("v=STSv1; id=" + c.id) || !parse_int(time_line.substr(8), secs) ||
      secs < 0 || secs > kMaxFetched) {
    return std::nullopt;
  }
  std::optional<Policy> p = parse_policy(body);
  if (!p) {
    return std::nullopt;
  }
  c.policy = std::move(*p);
  c.body = std::string(body);
  c.fetched = TimePoint(std::chrono::seconds(secs));
  return c;
}

Action decide(const std::optional<CachedPolicy>& cached, const std::optional<std::string>& id,
              TimePoint now) {
  bool usable = cached && cached->valid_at(now);
  if (!id) {
    // §3.3 / §5.1: no TXT record (or a lookup failure) leaves an unexpired cached policy in
    // force; that is what stops an attacker who strips the record from downgrading us.
    return usable ? Action::UseCached : Action::NoPolicy;
  }
  // §3.3: the id changed (or nothing usable is cached): fetch the new policy.
  return usable && cached->id == *id ? Action::UseCached : Action::Fetch;
}

}  // namespace hk::delivery::sts
