// DkimSigner: DKIM-Signature headers (RFC 6376 §5), relaxed/relaxed, rsa-sha256 (RFC 8301) or
// ed25519-sha256 (RFC 8463), with keys parsed once (DkimKey::pkey).
//
// Why not libopendkim's dkim_sign(): it takes the key as NUL-terminated PEM text and parses it
// again for every message, and for RSA converts it to a fresh legacy RSA object whose Montgomery
// and blinding values are then recomputed; on OpenSSL 3 that costs several times the signature
// itself (docs/benchmarks.md, "DKIM signing cost"). libopendkim stays our verifier (verify.hpp),
// and the tests check every signature made here with it and with dkimpy.
// SECURITY: keys are never logged or copied; only their EVP_PKEY is used.
#pragma once

#include <openssl/evp.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/openssl.hpp"
#include "lib/dkim/keys.hpp"

namespace hk::dkim {

// The header fields we sign (RFC 6376 §5.4.1 recommends these), lower case, null-terminated.
// From is over-signed (listed once more than it appears, §8.15) so that nobody can add a second
// From that verifiers would show.
extern const char* const kSignedHeaders[];

// The canonical forms of RFC 6376 §3.4.2 and §3.4.4, exposed for the tests.
// `field` is "Name: value" with any folding (CRLF or LF) and without its final line end; the
// result ends with CRLF.
std::string relaxed_header(std::string_view field);
// `body` with CRLF or LF line ends; the result is what bh= hashes.
std::string relaxed_body(std::string_view body);

// Relaxed body canonicalization (§3.4.4) fed in pieces split anywhere, even inside a CRLF or a
// run of spaces: feeding a body whole or in any pieces gives the same output.
class BodyCanon {
 public:
  // Appends the canonical form of `piece` that is settled so far to `out`.
  void feed(std::string_view piece, std::string& out);
  // The end of the body: what was held back (a final line without CRLF gets one; empty lines
  // at the end are dropped).
  void finish(std::string& out);

 private:
  void text(std::string_view t, std::string& out);
  void end_line(std::string& out);

  size_t blank_lines_ = 0;  // empty lines held back: dropped if nothing follows them
  bool wsp_ = false;        // WSP seen since the last text on this line
  bool content_ = false;    // this line has text
  bool cr_ = false;         // a CR that may start a CRLF
};

// The bh= value of a body fed in pieces (a spooled message is hashed as it is read back).
class BodyHasher {
 public:
  void update(std::string_view piece);
  // The base64 SHA-256 of the canonical body, or nullopt with `error` set.
  std::optional<std::string> finish(std::string& error);

 private:
  friend class DkimSigner;
  explicit BodyHasher(const EVP_MD* sha256);

  std::unique_ptr<EVP_MD_CTX, base::Free<EVP_MD_CTX_free>> md_;
  BodyCanon canon_;
  std::string buffer_;  // canonical bytes not yet hashed
  bool ok_ = true;
};

// Create once and share: sign() and sign_all() are const and may run concurrently from a thread
// pool (signing is CPU work: offload it there).
class DkimSigner {
 public:
  // `fixed_time` != 0 puts that t= in every signature (tests); otherwise the current time.
  // Throws std::runtime_error when OpenSSL has no SHA-256 (a broken installation).
  explicit DkimSigner(std::time_t fixed_time = 0);
  ~DkimSigner();
  DkimSigner(const DkimSigner&) = delete;
  DkimSigner& operator=(const DkimSigner&) = delete;

  // The complete "DKIM-Signature: ...\r\n" header (folded, CRLF) to prepend to `message`, or
  // nullopt with `error` set. `message` is header + empty line + body, CRLF or LF line ends.
  std::optional<std::string> sign(std::string_view message, const DkimKey& key,
                                  std::string& error) const;

  // One signature per key, concatenated in key order; the message is parsed and its body hashed
  // once for all of them. Keys that fail are skipped and "selector: reason" appended to `errors`.
  std::string sign_all(std::string_view message, const std::vector<DkimKey>& keys,
                       std::vector<std::string>& errors) const;

  // The same for a message too big to hold whole: its header section (the fields, without the
  // empty line that ends them) and the bh= of its body, from body_hasher().
  BodyHasher body_hasher() const { return BodyHasher(sha256_); }
  std::string sign_all_hashed(std::string_view header_section, const std::string& body_hash,
                              const std::vector<DkimKey>& keys,
                              std::vector<std::string>& errors) const;

 private:
  struct Prepared;
  Prepared prepare(std::string_view message) const;
  Prepared prepare_headers(std::string_view header_section) const;
  std::optional<std::string> sign_prepared(const Prepared& prepared, const DkimKey& key,
                                           std::string& error) const;
  // One DKIM-Signature per key over `prepared`, concatenated; a key that fails adds to `errors`.
  std::string sign_each(const Prepared& prepared, const std::vector<DkimKey>& keys,
                        std::vector<std::string>& errors) const;

  std::time_t fixed_time_;
  EVP_MD* sha256_;  // fetched once: an implicit fetch per message takes a global lock
};

// Shorthand for signer.sign_all(message, keys, errors).
std::string sign_all(const DkimSigner& signer, std::string_view message,
                     const std::vector<DkimKey>& keys, std::vector<std::string>& errors);

}  // namespace hk::dkim
