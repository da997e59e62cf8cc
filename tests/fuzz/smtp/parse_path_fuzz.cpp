// libFuzzer target: envelope paths (both kinds), domain normalisation and the AUTH codecs, with
// round-trip invariants: what str() prints parses back to the same address, normalize_domain
// is idempotent, base64 decoding accepts only what encoding produces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/base/base64.hpp"
#include "lib/smtp/address.hpp"
#include "lib/smtp/auth.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

bool lower_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || (c >= 'A' && c <= 'Z')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::smtp;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  for (PathKind kind : {PathKind::Reverse, PathKind::Forward}) {
    PathResult r = parse_path(in, kind);
    if (!r.ok) {
      check(r.error.code == 501 || r.error.code == 553);
      check(r.error.enhanced == (kind == PathKind::Reverse ? "5.1.7" : "5.1.3"));
      continue;
    }
    const Address& a = r.value;
    check(in.size() <= 256);  // RFC 5321 §4.5.3.1.3
    check(a.local.size() <= 64);
    check(a.domain.size() <= 255);
    check(lower_ascii(a.domain) || a.literal);
    check(!a.is_null() || kind == PathKind::Reverse);
    std::string again = "<" + a.str() + ">";
    if (again.size() <= 256) {
      PathResult back = parse_path(again, kind);
      check(back.ok);
      check(back.value == a);
    }
  }

  std::string domain = normalize_domain(in);
  if (!domain.empty()) {
    check(lower_ascii(domain));
    check(normalize_domain(domain) == domain);
  }

  if (std::optional<std::string> bytes = hk::base::base64_decode(in)) {
    check(hk::base::base64_encode(*bytes) == in);
  }
  if (std::optional<std::string> text = xtext_decode(in)) {
    check(xtext_decode(xtext_encode(*text)) == *text);
  }
  decode_auth_plain(in);
  return 0;
}
