// Reply: one SMTP reply as a value (RFC 5321 §4.2): code, enhanced status (RFC 3463), text
// lines, and whether the server closes the connection after sending it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hk::smtp {

struct Reply {
  int code = 250;
  std::string enhanced;            // "2.1.0"; empty when no enhanced code applies (greeting, EHLO)
  std::vector<std::string> lines;  // at least one line
  bool close = false;              // close the connection after this reply

  Reply() = default;
  Reply(int c, std::string enh, std::string text, bool close_after = false)
      : code(c), enhanced(std::move(enh)), lines{std::move(text)}, close(close_after) {}

  bool positive() const { return code >= 200 && code < 400; }

  // The reply on the wire: "250-first\r\n250 last\r\n", with the enhanced code on every line.
  std::string wire() const {
    std::string out;
    std::string prefix = std::to_string(code);
    for (size_t i = 0; i < lines.size(); ++i) {
      out += prefix;
      out += (i + 1 == lines.size()) ? ' ' : '-';
      if (!enhanced.empty()) {
        out += enhanced;
        out += ' ';
      }
      out += lines[i];
      out += "\r\n";
    }
    if (lines.empty()) {
      out += prefix + " \r\n";
    }
    return out;
  }
};

}  // namespace hk::smtp
