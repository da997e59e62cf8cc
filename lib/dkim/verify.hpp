// Offline DKIM verification (RFC 6376 §6) against a public key given as its TXT record value,
// for hikyaku-util dkim-verify, tests and verify_dns.hpp (which fetches the key through our
// resolver).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace hk::dkim {

struct DkimVerifyResult {
  // RFC 8601 §2.7.1 results: pass | fail | neutral | none | temperror | permerror.
  std::string result;
  std::string domain;    // d= of the signature evaluated, when there is one
  std::string selector;  // s=
  std::string detail;    // why, for people
};

// A message to verify given as its header section, in memory, and its body, read in pieces: a
// message spooled to disk is verified without being read into memory whole.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // The header fields, CRLF or LF line ends, without the empty line that ends them.
  virtual std::string_view header_section() const = 0;
  // Calls `piece` with the body (after the empty line, CRLF line ends) in consecutive pieces,
  // until the end or until `piece` returns false; false when the body could not be read.
  virtual bool read_body(const std::function<bool(std::string_view)>& piece) const = 0;
};

// A whole message in memory (CRLF or LF line ends) as a MessageSource.
class StringMessage final : public MessageSource {
 public:
  explicit StringMessage(std::string_view message);
  std::string_view header_section() const override { return header_; }
  bool read_body(const std::function<bool(std::string_view)>& piece) const override;

 private:
  std::string_view header_;
  std::string_view body_;
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
DkimVerifyResult verify_with_key(const MessageSource& message, const std::string& txt_record_value,
                                 std::size_t index);

}  // namespace hk::dkim
