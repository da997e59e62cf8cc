// DataReader: the message body after DATA (RFC 5321 §4.1.1.4), read incrementally: finds the
// end "CRLF . CRLF", removes dot-stuffing (§4.5.2), enforces the size limit and counts
// Received: header fields for loop detection (§6.3).
// SECURITY: the only terminator accepted is CRLF "." CRLF. A bare CR or LF anywhere marks the
// message as refused (SMTP smuggling, CVE-2023-51764/51765/51766: "\n.\n", "\r.\r", "\n.\r\n"
// must never end a message, or a second message hidden in the first would be accepted), but
// reading goes on to the real terminator so that the session stays in step with the client.
// A NUL byte is refused the same way (RFC 2045 §2.7/§2.8: neither 7bit nor 8bit data may hold
// NUL; RFC 5322 §3.5 allows it only in the obsolete syntax): a smuggling checker flags it, and
// C-string code further along (filters, mail readers) would see the message end there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

class DataReader {
 public:
  enum class Error { None, BareLineEnding, NulByte, TooBig };

  // `max_size` is the largest body accepted, in octets as counted by RFC 1870 §5 (CRLFs
  // included, dot-stuffing and the final dot line excluded).
  explicit DataReader(uint64_t max_size);

  // Consumes bytes up to and including the terminating CRLF.CRLF and returns how many it used;
  // the rest belongs to the next command (PIPELINING, RFC 2920 §3.1). Returns 0 once done().
  size_t feed(std::string_view bytes);

  bool done() const { return state_ == State::Done; }
  // The first error seen; the body is to be refused (reply_for) when it is not None.
  Error error() const { return error_; }
  // Dot-unstuffed, every line ending CRLF, the final dot line excluded. Complete only when
  // done() and error() == None; emptied (and no longer filled) once the message is refused for
  // any reason, so a refused message costs neither memory nor disk. The caller may take bytes
  // out of it between feeds (the spool does), and they are not given again.
  std::string& body() { return body_; }
  // Octets of body seen so far, also past the limit.
  uint64_t size() const { return size_; }
  // "Received:" fields in the header section (before the first empty line).
  int received_count() const { return received_; }

 private:
  enum class State { LineStart, Dot, DotCr, Text, Cr, Done };

  void emit(std::string_view bytes);  // line content: header tracking, then store()
  void store(std::string_view bytes);
  void end_line();
  void fail(Error e);

  uint64_t max_size_;
  State state_ = State::LineStart;
  Error error_ = Error::None;
  std::string body_;
  uint64_t size_ = 0;
  bool discard_ = false;  // refused: bytes are counted, no longer stored
  bool in_headers_ = true;
  std::string line_head_;  // first octets of the current header line
  int received_ = 0;
};

// The reply after the final dot for a refused body:
//   BareLineEnding: 554 5.6.0 — RFC 5321 §2.3.8 forbids CR and LF except as CRLF; 554 is the
//     DATA-end "transaction failed" reply (§4.3.2), X.6.0 "other media error" (RFC 3463 §3.7).
//   NulByte: 554 5.6.0 — as BareLineEnding: content the media type does not allow.
//   TooBig: 552 5.3.4 — RFC 5321 §4.5.3.1.9 "552 Too much mail data", RFC 1870 §6.3,
//     X.3.4 "message too big for system" (RFC 3463 §3.4).
//   None: 250 2.0.0 (callers normally send their own "queued as" reply).
Reply reply_for(DataReader::Error error);

}  // namespace hk::smtp
