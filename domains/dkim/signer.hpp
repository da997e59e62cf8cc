// DkimSigner: DKIM-Signature headers (RFC 6376 §5) made with libopendkim, relaxed/relaxed,
// rsa-sha256 (RFC 8301) or ed25519-sha256 (RFC 8463).
// SECURITY: holds no key itself; keys come in per call and are not logged.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domains/dkim/keys.hpp"
#include "domains/dkim/opendkim.hpp"

namespace hk::dkim {

// The header fields we sign (RFC 6376 §5.4.1 recommends these). From is over-signed (listed once
// more than it appears, §8.15) so that nobody can add a second From that verifiers would show.
extern const char* const kSignedHeaders[];

// Create once and share. Thread safety: the library handle is only configured in the
// constructor; each sign() call makes its own DKIM handle, which libopendkim keeps per call, so
// sign() may run concurrently from a thread pool (signing is CPU work: offload it there).
class DkimSigner {
 public:
  // Throws std::runtime_error when libopendkim cannot start (out of memory).
  DkimSigner();
  DkimSigner(const DkimSigner&) = delete;
  DkimSigner& operator=(const DkimSigner&) = delete;

  // The complete "DKIM-Signature: ...\r\n" header (folded, CRLF) to prepend to `message`, or
  // nullopt with `error` set. `message` is header + empty line + body, CRLF or LF line ends.
  std::optional<std::string> sign(const std::string& message, const DkimKey& key,
                                  std::string& error) const;

 private:
  DkimLibPtr lib_;
};

// One signature per key, concatenated in key order; keys that fail are skipped and their
// errors appended to `errors` (one "selector: reason" per entry). Empty when none signed.
std::string sign_all(const DkimSigner& signer, const std::string& message,
                     const std::vector<DkimKey>& keys, std::vector<std::string>& errors);

}  // namespace hk::dkim
