// DataEncoder: line endings and dot-stuffing for the DATA phase.
#include "lib/smtp_client/data_encoder.hpp"

#include "lib/smtp/text.hpp"

namespace hk::delivery {

void DataEncoder::encode(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() + in.size() / 64 + 8);
  size_t i = 0;
  while (i < in.size()) {
    if (pending_cr_) {
      // CR LF, or a bare CR that ends a line all the same.
      pending_cr_ = false;
      out += "\r\n";
      line_start_ = true;
      if (in[i] == '\n') {
        ++i;
        continue;
      }
    }
    char c = in[i];
    if (c == '\r') {
      pending_cr_ = true;
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\r\n";
      line_start_ = true;
      ++i;
      continue;
    }
    if (line_start_ && c == '.') {
      out += '.';  // RFC 5321 §4.5.2: a line starting with "." gets one more
    }
    // Copy the rest of the line in one go.
    size_t end = smtp::find_line_break(in, i);
    if (end == std::string_view::npos) {
      end = in.size();
    }
    out.append(in.substr(i, end - i));
    line_start_ = false;
    i = end;
  }
}

void DataEncoder::finish(std::string& out) {
  if (pending_cr_) {
    pending_cr_ = false;
    out += "\r\n";
    line_start_ = true;
  }
  if (!line_start_) {
    out += "\r\n";
  }
  out += ".\r\n";
  line_start_ = true;
}

std::string encode_data(std::string_view message) {
  std::string out;
  DataEncoder enc;
  enc.encode(message, out);
  enc.finish(out);
  return out;
}

}  // namespace hk::delivery
