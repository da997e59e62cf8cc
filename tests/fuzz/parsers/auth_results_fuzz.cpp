// libFuzzer target: Authentication-Results field values arriving with a message (RFC 8601 §2.2),
// as read to find and remove fields that claim our authserv-id (§5), and the field we write
// ourselves. Invariants: a field that parses has a non-empty authserv-id, claims it in any case,
// and printed back in canonical form (quoted id, one space, "; " between results) parses to the
// same field; claims_authserv_id agrees with the full parse; and every field our writer makes,
// whatever the inputs, parses back with the authserv-id and the results it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/dkim/auth_results.hpp"

namespace {

namespace dkim = hk::dkim;

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string canonical(const dkim::AuthResultsField& f) {
  std::string out = quoted(f.authserv_id);
  if (!f.version.empty()) {
    out += " " + f.version;
  }
  if (f.results.empty()) {
    return out + "; none";
  }
  for (const dkim::AuthResultsEntry& e : f.results) {
    out += "; " + e.method;
    if (!e.method_version.empty()) {
      out += "/" + e.method_version;
    }
    out += "=" + e.result;
    if (!e.reason.empty()) {
      out += " reason=" + quoted(e.reason);
    }
    for (const dkim::AuthResultsProperty& p : e.properties) {
      out += " " + p.ptype + "." + p.property + "=" + p.value;
    }
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = hk::base::to_upper(c);
  }
  return out;
}

// The writer, fed fields of the input split at LF: authserv-id, then per DKIM result domain,
// selector and detail, and an SPF result and MAIL FROM.
void check_writer(std::string_view in) {
  std::vector<std::string> parts;
  while (parts.size() < 9) {
    size_t lf = in.find('\n');
    parts.emplace_back(in.substr(0, lf));
    if (lf == std::string_view::npos) {
      break;
    }
    in.remove_prefix(lf + 1);
  }
  parts.resize(9);
  static constexpr std::string_view kResults[] = {"pass",      "fail",      "neutral", "none",
                                                  "temperror", "permerror", "policy",  "junk"};
  auto pick = [](const std::string& s) {
    return std::string(kResults[s.empty() ? 0 : static_cast<unsigned char>(s[0]) % 8]);
  };
  std::vector<dkim::DkimVerifyResult> results = {{pick(parts[4]), parts[1], parts[2], parts[3]},
                                                 {pick(parts[3]), parts[5], parts[6], parts[7]}};
  results.resize(static_cast<unsigned char>(parts[8].empty() ? 0 : parts[8][0]) % 3);
  std::string spf = parts[8].size() > 1 ? pick(parts[8].substr(1)) : "";
  std::string field = dkim::authentication_results(parts[0], results, spf, parts[7]);
  const std::string_view kName = "Authentication-Results:";
  check(field.starts_with(kName) && field.ends_with("\r\n"));
  std::string_view value = std::string_view(field).substr(kName.size());
  std::optional<dkim::AuthResultsField> f = dkim::parse_authentication_results(value);
  // The writer drops from the id what a token cannot hold; nothing may be left of it.
  std::string_view after_name = value.substr(1, value.find(';') - 1);
  if (after_name.empty()) {
    check(!f);
    return;
  }
  check(f.has_value());
  check(f->authserv_id == after_name);
  check(dkim::claims_authserv_id(value, upper(f->authserv_id)));
  check(f->results.size() == results.size() + (spf.empty() ? 0 : 1));
  for (size_t i = 0; i < results.size(); ++i) {
    check(f->results[i].method == "dkim");
    check(f->results[i].result == (results[i].result == "junk" ? "permerror" : results[i].result));
  }
  if (!spf.empty()) {
    check(f->results.back().method == "spf" && f->results.back().result == spf);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::optional<dkim::AuthResultsField> f = dkim::parse_authentication_results(in);
  std::optional<std::string> id = dkim::parse_authserv_id(in);
  check(f.has_value() == id.has_value());
  check(!dkim::claims_authserv_id(in, ""));
  if (f) {
    check(!f->authserv_id.empty() && *id == f->authserv_id);
    check(dkim::claims_authserv_id(in, f->authserv_id));
    check(dkim::claims_authserv_id(in, upper(f->authserv_id)));
    check(!dkim::claims_authserv_id(in, f->authserv_id + "x"));
    for (const dkim::AuthResultsEntry& e : f->results) {
      check(!e.method.empty() && !e.result.empty());
      for (const dkim::AuthResultsProperty& p : e.properties) {
        check(!p.ptype.empty() && !p.property.empty() && !p.value.empty());
      }
    }
    std::string again = canonical(*f);
    std::optional<dkim::AuthResultsField> g = dkim::parse_authentication_results(again);
    check(g.has_value());
    check(g->authserv_id == f->authserv_id && g->version == f->version && g->results == f->results);
  }
  if (dkim::claims_authserv_id(in, "mx.example.com") && f) {
    check(hk::base::iequals(f->authserv_id, "mx.example.com"));
  }
  check_writer(in);
  return 0;
}
