// verify_message: finds the DKIM-Signature fields, fetches each key through dns::Resolver, then
// verifies each signature offline with verify_with_key.
#include "domains/dkim/verify_dns.hpp"

#include <cctype>

#include "daemon/dns/error.hpp"
#include "domains/dkim/message.hpp"

namespace hk::dkim {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_wsp(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// Domain-ish: what a d= or s= may hold for us to build a DNS name from it (RFC 6376 §3.5,
// selectors are sub-domains §3.1). Underscores are accepted as some selectors use them.
bool domainish(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') {
    return false;
  }
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return s.find("..") == std::string_view::npos;
}

// The tag=value list of a field's value (RFC 6376 §3.2), whitespace removed from the tag value
// (folding whitespace may appear anywhere inside it).
SignatureTags parse_tags(std::string_view value) {
  SignatureTags tags;
  bool have_d = false;
  bool have_s = false;
  while (!value.empty()) {
    size_t semi = value.find(';');
    std::string_view spec = value.substr(0, semi);
    value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
    size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    std::string_view name = trim(spec.substr(0, eq));
    std::string v;
    for (char c : spec.substr(eq + 1)) {
      if (!is_wsp(c)) {
        v += c;
      }
    }
    if (name == "d" && !have_d) {
      tags.domain = std::move(v);
      have_d = true;
    } else if (name == "s" && !have_s) {
      tags.selector = std::move(v);
      have_s = true;
    }
  }
  tags.valid = domainish(tags.domain) && domainish(tags.selector);
  return tags;
}

bool is_signature_field(std::string_view field) {
  constexpr std::string_view kName = "dkim-signature";
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view name = trim(field.substr(0, colon));
  if (name.size() != kName.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != kName[i]) {
      return false;
    }
  }
  return true;
}

DkimVerifyResult tagged(std::string result, const SignatureTags& tags, std::string detail) {
  return {std::move(result), tags.domain, tags.selector, std::move(detail)};
}

}  // namespace

std::vector<SignatureTags> find_signatures(std::string_view message) {
  std::vector<SignatureTags> out;
  for (const std::string& field : split_message(message).fields) {
    if (is_signature_field(field)) {
      out.push_back(parse_tags(std::string_view(field).substr(field.find(':') + 1)));
    }
  }
  return out;
}

std::string pick_key_record(const std::vector<std::string>& records) {
  for (const std::string& r : records) {
    std::string_view t = trim(r);
    if (t.rfind("v=DKIM1", 0) == 0 || t.find("p=") != std::string_view::npos) {
      return r;
    }
  }
  return {};
}

boost::asio::awaitable<std::vector<DkimVerifyResult>> verify_message(dns::Resolver& dns,
                                                                     const std::string& message,
                                                                     std::size_t max_signatures) {
  std::vector<DkimVerifyResult> results;
  std::vector<SignatureTags> sigs = find_signatures(message);
  if (sigs.empty()) {
    results.push_back({"none", "", "", "no DKIM-Signature"});
    co_return results;
  }
  for (std::size_t i = 0; i < sigs.size() && i < max_signatures; ++i) {
    const SignatureTags& tags = sigs[i];
    if (!tags.valid) {
      // RFC 6376 §6.1.1: a signature without usable d= or s= is PERMFAIL.
      results.push_back(tagged("permerror", tags, "malformed d= or s= tag"));
      continue;
    }
    std::string name = tags.selector + "._domainkey." + tags.domain;
    dns::Answer<std::string> answer = co_await dns.txt(name);
    if (answer.ec) {
      bool no_key = answer.ec == dns::Error::NxDomain || answer.ec == dns::Error::NoData;
      // RFC 6376 §6.1.2: no key record is PERMFAIL; a lookup that may work later is TEMPFAIL.
      results.push_back(tagged(
          no_key ? "permerror" : "temperror", tags,
          (no_key ? "no key for signature: " : "key lookup failed: ") + answer.ec.message()));
      continue;
    }
    std::string record = pick_key_record(answer.records);
    if (record.empty()) {
      results.push_back(tagged("permerror", tags, "no DKIM key record at " + name));
      continue;
    }
    DkimVerifyResult r = verify_with_key(message, record, i);
    if (r.domain.empty()) {
      r.domain = tags.domain;
      r.selector = tags.selector;
    }
    results.push_back(std::move(r));
  }
  co_return results;
}

}  // namespace hk::dkim
