// Content-Transfer-Encoding (RFC 2045 §6) and the RFC 2047 "Q" encoding, decoded leniently: mail
// in the wild wraps, pads and mangles both, and a reader shows what it can.
#include <string>
#include <string_view>

#include "lib/base/ascii.hpp"
#include "lib/mime/detail.hpp"

namespace hk::mime::detail {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+' || c == '-') {  // '-' and '_': the URL-safe alphabet some generators use
    return 62;
  }
  if (c == '/' || c == '_') {
    return 63;
  }
  return -1;
}

}  // namespace

std::string decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  unsigned long group = 0;
  int have = 0;
  auto flush_partial = [&] {
    // Two characters hold one byte, three hold two (RFC 4648 §4 with its padding lost).
    if (have == 2) {
      out += static_cast<char>((group >> 4) & 0xFF);
    } else if (have == 3) {
      out += static_cast<char>((group >> 10) & 0xFF);
      out += static_cast<char>((group >> 2) & 0xFF);
    }
    group = 0;
    have = 0;
  };
  for (char c : text) {
    if (c == '=') {
      flush_partial();
      continue;
    }
    int v = base64_value(c);
    if (v < 0) {
      continue;  // line breaks, spaces and garbage (RFC 2045 §6.8: ignored)
    }
    group = (group << 6) | static_cast<unsigned long>(v);
    if (++have == 4) {
      out += static_cast<char>((group >> 16) & 0xFF);
      out += static_cast<char>((group >> 8) & 0xFF);
      out += static_cast<char>(group & 0xFF);
      group = 0;
      have = 0;
    }
  }
  flush_partial();
  return out;
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    // One line at a time: whitespace at its end was added in transport (RFC 2045 §6.7 rule 3).
    size_t lf = text.find('\n', i);
    size_t end = lf == std::string_view::npos ? text.size() : lf;
    std::string_view line = text.substr(i, end - i);
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    bool soft = !line.empty() && line.back() == '=';
    if (soft) {
      line.remove_suffix(1);  // rule 5: a soft line break
    }
    for (size_t k = 0; k < line.size(); ++k) {
      char c = line[k];
      if (c == '=') {
        int hi = k + 1 < line.size() ? base::hex_value(line[k + 1]) : -1;
        int lo = k + 2 < line.size() ? base::hex_value(line[k + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          out += static_cast<char>(hi * 16 + lo);
          k += 2;
          continue;
        }
      }
      out += c;  // a bad escape is kept as written
    }
    if (lf != std::string_view::npos && !soft) {
      out += crlf ? "\r\n" : "\n";
    }
    i = lf == std::string_view::npos ? text.size() : lf + 1;
  }
  return out;
}

std::string decode_q(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t k = 0; k < text.size(); ++k) {
    char c = text[k];
    if (c == '_') {
      out += ' ';
      continue;
    }
    if (c == '=') {
      int hi = k + 1 < text.size() ? base::hex_value(text[k + 1]) : -1;
      int lo = k + 2 < text.size() ? base::hex_value(text[k + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        k += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

}  // namespace hk::mime::detail
