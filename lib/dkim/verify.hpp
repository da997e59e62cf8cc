// Offline DKIM verification (RFC 6376 §6) against a public key given as its TXT record value,
// for hikyaku-util dkim-verify, tests and verify_dns.hpp (which fetches the key through our
// resolver).
#pragma once

#include <cstddef>
#include <string>

namespace hk::dkim {

struct DkimVerifyResult {
  // RFC 8601 §2.7.1 results: pass | fail | neutral | none | temperror | permerror.
  std::string result;
  std::string domain;    // d= of the signature evaluated, when there is one
  std::string selector;  // s=
  std::string detail;    // why, for people
};

// Verifies the first DKIM-Signature of `message` (CRLF or LF line ends) with the key in
// `txt_record_value` ("v=DKIM1; k=rsa; p=..."), whatever d= and s= say. No DNS is queried.
// Safe to call from several threads at once.
DkimVerifyResult verify_with_key(const std::string& message, const std::string& txt_record_value);

// Verifies only the DKIM-Signature at position `index` (0 = the topmost, in header order) with
// the key in `txt_record_value`; the other signatures are ignored. "none" when there is no
// signature at that position.
DkimVerifyResult verify_with_key(const std::string& message, const std::string& txt_record_value,
                                 std::size_t index);

}  // namespace hk::dkim
