// Splitting a message into header fields and body for libopendkim, which wants each field as
// it appears (folded lines joined by CRLF, no final CRLF) and the body with CRLF line ends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hk::dkim {

struct SplitMessage {
  std::vector<std::string> fields;  // "Name: value\r\n\tcontinued", without the final CRLF
  std::string body;                 // CRLF line ends (bare LF is turned into CRLF)
};

// RFC 5322 §2.1: the header section ends at the first empty line; a line that starts with a
// space or tab continues the previous field (§2.2.3). Accepts LF or CRLF line ends.
SplitMessage split_message(std::string_view message);

// The header section (up to, not including, the empty line that ends it) and the body after that
// line; the body is empty when there is no such line.
struct HeaderAndBody {
  std::string_view header;
  std::string_view body;
};
HeaderAndBody header_and_body(std::string_view message);

// The message with every bare LF turned into CRLF (RFC 5322 §2.3; stdin of the CLI has LF).
std::string to_crlf(std::string_view message);

}  // namespace hk::dkim
