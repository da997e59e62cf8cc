// Header/body splitting shared by the signer and the verifier.
#include "lib/dkim/message.hpp"

namespace hk::dkim {

std::string to_crlf(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32);
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) {
      out += '\r';
    }
    out += message[i];
  }
  return out;
}

HeaderAndBody header_and_body(std::string_view message) {
  size_t pos = 0;
  while (pos < message.size()) {
    size_t nl = message.find('\n', pos);
    if (nl == std::string_view::npos) {
      break;
    }
    size_t content_end = nl > pos && message[nl - 1] == '\r' ? nl - 1 : nl;
    if (content_end == pos) {
      return {message.substr(0, pos), message.substr(nl + 1)};
    }
    pos = nl + 1;
  }
  return {message, {}};
}

SplitMessage split_message(std::string_view message) {
  SplitMessage out;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t nl = message.find('\n', pos);
    size_t end = nl == std::string_view::npos ? message.size() : nl;
    size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
    std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    pos = next;
    if (line.empty()) {
      break;  // the empty line that ends the header section
    }
    if ((line[0] == ' ' || line[0] == '\t') && !out.fields.empty()) {
      out.fields.back() += "\r\n";
      out.fields.back() += line;
    } else {
      out.fields.emplace_back(line);
    }
  }
  out.body = to_crlf(message.substr(pos));
  return out;
}

}  // namespace hk::dkim
