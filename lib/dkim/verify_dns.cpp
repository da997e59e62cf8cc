// verify_message: finds the DKIM-Signature fields, fetches each key through dns::Lookup, then
// verifies each signature offline with verify_with_key.
#include "lib/dkim/verify_dns.hpp"

#include <algorithm>

#include "lib/base/ascii.hpp"
#include "lib/base/offload.hpp"
#include "lib/base/tag_value.hpp"
#include "lib/base/text.hpp"
#include "lib/dkim/message.hpp"
#include "lib/dns/error.hpp"

namespace hk::dkim {
namespace {

std::string_view trim(std::string_view s) { return base::trim(s, " \t\r\n"); }

// Domain-ish: what a d= or s= may hold for us to build a DNS name from it (RFC 6376 §3.5,
// selectors are sub-domains §3.1). Underscores are accepted as some selectors use them.
// Not base::is_domain_name: DomainSyntax has no underscore, hyphen-at-label-end or long-label
// option, and this only guards the name we query; libopendkim checks the signature itself.
bool domainish(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') {
    return false;
  }
  for (char c : s) {
    if (!base::is_alnum(c) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return s.find("..") == std::string_view::npos;
}

// The d= and s= of a field's tag list (RFC 6376 §3.2), whitespace removed from the values
// (folding whitespace may appear anywhere inside them). Lenient, and the first d= and s= win:
// only these two tags are read here, to find the key; libopendkim validates the whole list
// (duplicates included, §3.2) when it verifies the signature.
SignatureTags parse_tags(std::string_view value) {
  base::TagList list = base::parse_tag_list(
      value, {.lenient = true, .strip_value_whitespace = true, .duplicates_allowed = true});
  SignatureTags tags;
  if (const std::string* d = list.find("d")) {
    tags.domain = *d;
  }
  if (const std::string* s = list.find("s")) {
    tags.selector = *s;
  }
  tags.valid = domainish(tags.domain) && domainish(tags.selector);
  return tags;
}

bool is_signature_field(std::string_view field) {
  size_t colon = field.find(':');
  return colon != std::string_view::npos &&
         base::iequals(trim(field.substr(0, colon)), "dkim-signature");
}

DkimVerifyResult tagged(std::string result, const SignatureTags& tags, std::string detail) {
  return {std::move(result), tags.domain, tags.selector, std::move(detail)};
}

// The signatures whose key was found, checked one after the other; a named function object for
// base::offload (GCC 12 mishandles capturing lambdas inside co_await expressions).
struct VerifyJobs {
  struct Job {
    size_t result;     // index into the results
    size_t signature;  // which DKIM-Signature, topmost first
    std::string record;
    SignatureTags tags;
  };
  const MessageSource* message;
  std::vector<Job> jobs;

  std::vector<DkimVerifyResult> operator()() const {
    std::vector<DkimVerifyResult> out;
    for (const Job& job : jobs) {
      DkimVerifyResult r = verify_with_key(*message, job.record, job.signature);
      if (r.domain.empty()) {
        r.domain = job.tags.domain;
        r.selector = job.tags.selector;
      }
      out.push_back(std::move(r));
    }
    return out;
  }
};

}  // namespace

std::vector<SignatureTags> find_signatures(std::string_view message) {
  // Only the header section is split: the body can be megabytes, and is not needed here.
  size_t end = message.find("\n\r\n");
  size_t lf_end = message.find("\n\n");
  end = std::min(end, lf_end);
  std::string_view header = end == std::string_view::npos ? message : message.substr(0, end + 1);
  std::vector<SignatureTags> out;
  for (const std::string& field : split_message(header).fields) {
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

boost::asio::awaitable<std::vector<DkimVerifyResult>> verify_message(
    dns::Lookup& dns, const std::string& message, std::size_t max_signatures,
    boost::asio::thread_pool* pool) {
  StringMessage source(message);
  co_return co_await verify_message(dns, source, max_signatures, pool);
}

boost::asio::awaitable<std::vector<DkimVerifyResult>> verify_message(
    dns::Lookup& dns, const MessageSource& message, std::size_t max_signatures,
    boost::asio::thread_pool* pool) {
  std::vector<DkimVerifyResult> results;
  VerifyJobs verify{&message, {}};
  std::vector<SignatureTags> sigs = find_signatures(message.header_section());
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
    verify.jobs.push_back({results.size(), i, std::move(record), tags});
    results.push_back(tagged("temperror", tags, "not verified"));  // replaced below
  }
  if (verify.jobs.empty()) {
    co_return results;
  }
  std::vector<size_t> slots;
  for (const VerifyJobs::Job& job : verify.jobs) {
    slots.push_back(job.result);
  }
  // No co_await inside a conditional expression: GCC 12 miscompiles some of those.
  std::vector<DkimVerifyResult> verified;
  if (pool != nullptr) {
    verified = co_await base::offload(*pool, std::move(verify));
  } else {
    verified = verify();
  }
  for (size_t k = 0; k < verified.size() && k < slots.size(); ++k) {
    results[slots[k]] = std::move(verified[k]);
  }
  co_return results;
}

}  // namespace hk::dkim
