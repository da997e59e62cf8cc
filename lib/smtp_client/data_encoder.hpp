// DataEncoder: turns a message into the bytes sent after DATA: CRLF line endings, dot-stuffing
// (RFC 5321 §4.5.2) and the terminating "<CRLF>.<CRLF>" (RFC 5321 §4.1.1.4), a chunk at a time.
#pragma once

#include <string>
#include <string_view>

namespace hk::delivery {

class DataEncoder {
 public:
  // Appends the wire form of `in` to `out`. Chunks may split a line or a CR LF pair anywhere.
  // A bare LF or a bare CR becomes CRLF: RFC 5321 §2.3.8 allows no other line ending.
  void encode(std::string_view in, std::string& out);
  // Appends the end of the data: a CRLF when the text did not end with one, then ".\r\n".
  void finish(std::string& out);

 private:
  bool line_start_ = true;   // the next octet begins a line
  bool pending_cr_ = false;  // the last chunk ended in CR; its LF may start the next chunk
};

// The whole message at once, terminating dot included.
std::string encode_data(std::string_view message);

}  // namespace hk::delivery
