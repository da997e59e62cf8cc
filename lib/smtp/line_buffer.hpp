// LineBuffer: turns the bytes read from a connection into command lines (RFC 5321 §2.3.8),
// with a hard bound on memory however long a line the client sends.
// SECURITY: a line longer than the limit is reported once and then skipped up to its LF
// without being stored, so a client cannot make the server buffer unbounded input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

struct Line {
  std::string text;       // without CRLF/LF; for an overlong line its first (max - 2) octets
  bool too_long = false;  // answer line_too_long_reply()
};

class LineBuffer {
 public:
  // RFC 5321 §4.5.3.1.4 sets 512 octets for a command line, extensions may raise it
  // (§4.5.3.1.4, RFC 1870 §3 adds 26 for SIZE); the default follows the text-line limit of
  // §4.5.3.1.6, 1000 octets including CRLF, which every extension's commands fit in.
  static constexpr size_t kDefaultMax = 1000;

  explicit LineBuffer(size_t max = kDefaultMax);

  void append(std::string_view bytes);

  // The next complete line, or nullopt when more bytes are needed. A line ends at CRLF; a bare
  // LF is accepted too (lenient for commands only; DATA uses DataReader, which is strict).
  std::optional<Line> next();

  // Returns the unread bytes and forgets them, leaving the buffer as new. The DATA reader takes
  // what was pipelined after DATA; after STARTTLS the server calls it to DISCARD anything sent
  // in clear text before the handshake (RFC 3207 §4, CVE-2011-0411 command injection).
  std::string take_rest();

  bool empty() const { return buffered() == 0; }
  // Input has arrived that no line returned yet holds: unread bytes, or the tail of an overlong
  // line still being skipped.
  bool pending() const { return buffered() > 0 || discarding_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_;
  std::string buf_;
  size_t pos_ = 0;           // start of the unread bytes in buf_
  bool discarding_ = false;  // skipping the tail of an overlong line up to its LF
};

// "500 5.5.2 Line too long" (RFC 5321 §4.5.3.1.9; RFC 3463 X.5.2 syntax error).
Reply line_too_long_reply();

}  // namespace hk::smtp
