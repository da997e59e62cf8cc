// parse_record: RFC 7489 §6.3/§6.4 over the one tag=value list parser (lib/base/tag_value).
#include "lib/dmarc/record.hpp"

#include <algorithm>

#include "lib/base/ascii.hpp"
#include "lib/base/tag_value.hpp"
#include "lib/base/text.hpp"

namespace hk::dmarc {
namespace {

// §6.4 dmarc-request: "none" / "quarantine" / "reject".
std::optional<Policy> parse_policy(std::string_view v) {
  if (base::iequals(v, "none")) {
    return Policy::None;
  }
  if (base::iequals(v, "quarantine")) {
    return Policy::Quarantine;
  }
  if (base::iequals(v, "reject")) {
    return Policy::Reject;
  }
  return std::nullopt;
}

// §6.4 dmarc-adkim / dmarc-aspf: "r" / "s".
std::optional<Alignment> parse_alignment(std::string_view v) {
  if (base::iequals(v, "r")) {
    return Alignment::Relaxed;
  }
  if (base::iequals(v, "s")) {
    return Alignment::Strict;
  }
  return std::nullopt;
}

// 1*DIGIT no greater than `max`; nullopt otherwise (or when absurdly long).
std::optional<std::uint64_t> parse_number(std::string_view v, std::uint64_t max) {
  if (v.empty() || v.size() > 10 || !std::all_of(v.begin(), v.end(), base::is_digit)) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (char c : v) {
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n <= max ? std::optional<std::uint64_t>(n) : std::nullopt;
}

// §6.4 dmarc-uri *(*WSP "," *WSP dmarc-uri): the list split at commas, each URI trimmed.
std::vector<std::string> split_uris(std::string_view v) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = v.find(',');
    std::string_view uri = base::trim(v.substr(0, comma), " \t\r\n");
    if (!uri.empty()) {
      out.emplace_back(uri);
    }
    if (comma == std::string_view::npos) {
      return out;
    }
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string_view to_string(Policy p) {
  switch (p) {
    case Policy::None:
      return "none";
    case Policy::Quarantine:
      return "quarantine";
    case Policy::Reject:
      return "reject";
  }
  return "none";
}

std::string_view to_string(Alignment a) { return a == Alignment::Strict ? "s" : "r"; }

bool is_dmarc_uri(std::string_view uri) {
  // The optional size limit: "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] at the end.
  size_t bang = uri.rfind('!');
  if (bang != std::string_view::npos) {
    std::string_view limit = uri.substr(bang + 1);
    if (!limit.empty() &&
        std::string_view("kmgtKMGT").find(limit.back()) != std::string_view::npos) {
      limit.remove_suffix(1);
    }
    if (limit.empty() || !std::all_of(limit.begin(), limit.end(), base::is_digit)) {
      return false;
    }
    uri = uri.substr(0, bang);
  }
  // RFC 3986 §3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":" and a hier-part;
  // a URI has no spaces, controls or ',' / '!' left here (§6.2 of RFC 7489 asks for ',' and '!'
  // to be percent-encoded inside a URI).
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size() ||
      !base::is_alpha(uri.front())) {
    return false;
  }
  for (size_t i = 0; i < colon; ++i) {
    char c = uri[i];
    if (!base::is_alnum(c) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return std::all_of(uri.begin() + static_cast<std::ptrdiff_t>(colon) + 1, uri.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != ',' && c != '!';
  });
}

ParsedRecord parse_record(std::string_view text) {
  ParsedRecord out;
  // Lenient: a tag-spec without "=" or with odd characters must not cost the whole record, as the
  // RFC keeps whatever it can; the tags that matter are checked one by one below.
  base::TagList list = base::parse_tag_list(text, {.lenient = true, .duplicates_allowed = true});
  // §6.4 dmarc-version = "v" *WSP "=" *WSP %x44 %x4d %x41 %x52 %x43 %x31, first of all.
  if (list.tags.empty() || list.tags.front().name != "v" || list.tags.front().value != "DMARC1") {
    return out;
  }
  Record& r = out.record;
  for (const base::Tag& t : list.tags) {
    if (t.name == "rua") {
      r.rua = split_uris(t.value);
      break;
    }
  }
  for (const base::Tag& t : list.tags) {
    if (t.name == "ruf") {
      r.ruf = split_uris(t.value);
      break;
    }
  }
  const bool reports = std::any_of(r.rua.begin(), r.rua.end(), is_dmarc_uri);
  std::string policy_error;
  const std::string* p = list.find("p");
  std::optional<Policy> policy = p ? parse_policy(*p) : std::nullopt;
  if (!p) {
    policy_error = "no p= tag";
  } else if (!policy) {
    policy_error = "invalid p=" + *p;
  }
  std::optional<Policy> sub;
  if (const std::string* sp = list.find("sp")) {
    sub = parse_policy(*sp);
    if (!sub && policy_error.empty()) {
      policy_error = "invalid sp=" + *sp;
    }
  }
  if (!policy_error.empty()) {
    if (!reports) {
      out.kind = RecordKind::Invalid;
      out.error = policy_error;
      return out;
    }
    // §6.6.3 step 6.1: as if the record were "v=DMARC1; p=none" (with its reporting tags).
    r.ignored.push_back(policy_error + ", taken as p=none (rua= is valid)");
    policy.reset();
    sub.reset();
  }
  r.p = policy.value_or(Policy::None);
  r.sp = sub;

  auto ignore = [&r](std::string_view name, const std::string& value) {
    r.ignored.push_back(std::string(name) + "=" + value);
  };
  if (const std::string* v = list.find("adkim")) {
    if (auto a = parse_alignment(*v)) {
      r.adkim = *a;
    } else {
      ignore("adkim", *v);
    }
  }
  if (const std::string* v = list.find("aspf")) {
    if (auto a = parse_alignment(*v)) {
      r.aspf = *a;
    } else {
      ignore("aspf", *v);
    }
  }
  if (const std::string* v = list.find("pct")) {
    if (auto n = parse_number(*v, 100)) {
      r.pct = static_cast<int>(*n);
    } else {
      ignore("pct", *v);
    }
  }
  if (const std::string* v = list.find("ri")) {
    if (auto n = parse_number(*v, 0xffffffffu)) {
      r.ri = static_cast<std::uint32_t>(*n);
    } else {
      ignore("ri", *v);
    }
  }
  if (const std::string* v = list.find("fo")) {
    r.fo = *v;
  }
  if (const std::string* v = list.find("rf")) {
    r.rf = *v;
  }
  out.kind = RecordKind::Valid;
  return out;
}

}  // namespace hk::dmarc
