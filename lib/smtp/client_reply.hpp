// The client side of replies: assembling a server's (possibly multi-line) reply from its lines
// (RFC 5321 §4.2) and reading the extensions an EHLO reply advertises (RFC 5321 §4.1.1.1).
// SECURITY: the peer is an untrusted remote server; a reply's size is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

class ReplyParser {
 public:
  enum class Status {
    More,       // a "250-..." continuation line; feed the next line
    Done,       // the last line arrived; take() the reply
    Malformed,  // not a reply line, code changed mid-reply, or too long: drop the connection
  };

  // No RFC bound on the number of lines; 64 KiB is far above any real reply (an EHLO reply
  // is a few hundred octets) and keeps a hostile server from growing it without end.
  static constexpr size_t kMaxReplyBytes = 64 * 1024;

  // `line` without its CRLF. Reply-line = *( Reply-code "-" [textstring] CRLF )
  // Reply-code [ SP textstring ] CRLF, Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).
  // An enhanced status code "c.s.d" (RFC 3463 §2, RFC 2034 §4) at the start of the text whose
  // class matches the reply code's first digit is moved into Reply::enhanced.
  Status feed(std::string_view line);

  // The assembled reply (valid after Done); resets the parser for the next reply.
  Reply take();
  void reset();

 private:
  Reply reply_;
  size_t bytes_ = 0;
  bool started_ = false;
  bool failed_ = false;
};

struct EhloInfo {
  bool pipelining = false;        // RFC 2920
  bool starttls = false;          // RFC 3207
  bool smtputf8 = false;          // RFC 6531
  bool eightbitmime = false;      // RFC 6152
  bool enhanced_codes = false;    // ENHANCEDSTATUSCODES, RFC 2034
  bool chunking = false;          // RFC 3030
  bool dsn = false;               // RFC 3461
  bool requiretls = false;        // RFC 8689 §2
  std::optional<uint64_t> size;   // RFC 1870 §3: SIZE n; 0 or absent number means no fixed limit
  std::vector<std::string> auth;  // SASL mechanisms, upper case (RFC 4954 §3)
};

// Reads the keyword lines after the greeting line of a positive EHLO reply; keywords are
// case-insensitive. Also understands the pre-standard "AUTH=LOGIN PLAIN" line.
EhloInfo parse_ehlo(const Reply& reply);

}  // namespace hk::smtp
