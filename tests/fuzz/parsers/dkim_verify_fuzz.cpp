// libFuzzer target: what DKIM verification reads from the network — a message's DKIM-Signature
// fields (RFC 6376 §3.5, their tag lists §3.2) and a key record from a DNS TXT answer (§3.6.1).
// Input: the key record's value, LF, then the message. Runs our own readers (split_message,
// find_signatures, pick_key_record) and libopendkim's verification with that key.
// Invariants: split fields keep RFC 5322 §2.2.3 folding (CRLF only before SP/TAB) and the body
// has no bare LF; to_crlf is idempotent; a signature found "valid" has DNS-safe d= and s=; the
// verdict is one of RFC 8601 §2.7.1's results, never "pass" for a message without signature.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dkim/message.hpp"
#include "lib/dkim/verify.hpp"
#include "lib/dkim/verify_dns.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

bool crlf_only(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      return false;
    }
  }
  return true;
}

bool dns_safe(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return s.front() != '.' && s.back() != '.';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::dkim;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t lf = in.find('\n');
  std::string key(in.substr(0, lf));
  std::string message(lf == std::string_view::npos ? std::string_view() : in.substr(lf + 1));

  std::string crlf = to_crlf(message);
  check(crlf_only(crlf) && to_crlf(crlf) == crlf);

  SplitMessage split = split_message(message);
  check(crlf_only(split.body));
  for (size_t i = 0; i < split.fields.size(); ++i) {
    const std::string& f = split.fields[i];
    check(!f.empty());
    check(i == 0 || (f[0] != ' ' && f[0] != '\t'));
    for (size_t at = f.find('\n'); at != std::string::npos; at = f.find('\n', at + 1)) {
      check(at > 0 && f[at - 1] == '\r' && at + 1 < f.size());
      check(f[at + 1] == ' ' || f[at + 1] == '\t');
    }
  }

  std::vector<SignatureTags> sigs = find_signatures(message);
  check(sigs.size() <= split.fields.size());
  for (const SignatureTags& s : sigs) {
    check(s.valid == (dns_safe(s.domain) && dns_safe(s.selector)));
  }

  std::string picked = pick_key_record({key, "v=DKIM1; p=", ""});
  check(!picked.empty());

  // libopendkim does the hashing and the RSA or Ed25519 work: keep the inputs it gets small.
  if (size > 16384) {
    return 0;
  }
  DkimVerifyResult r = verify_with_key(message, key);
  check(r.result == "pass" || r.result == "fail" || r.result == "neutral" || r.result == "none" ||
        r.result == "temperror" || r.result == "permerror");
  check(!sigs.empty() || r.result != "pass");
  // libopendkim sees no more signatures than find_signatures() does: none past the last.
  DkimVerifyResult past = verify_with_key(message, key, sigs.size());
  check(past.result != "pass");
  return 0;
}
