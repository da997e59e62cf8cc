// Character helpers shared by the SMTP parsers: ASCII classes and case folding (SMTP verbs,
// keywords and domains are case-insensitive, RFC 5321 §2.4) and UTF-8 validation (RFC 3629).
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace hk::smtp {

inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
inline char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// Position of the first CR or LF at or after `from`, or npos. Two memchr scans instead of
// find_first_of("\r\n"), which libstdc++ runs as one memchr per byte of the text: this is the
// inner loop of every message received and sent.
inline size_t find_line_break(std::string_view s, size_t from) {
  if (from >= s.size()) {
    return std::string_view::npos;
  }
  const char* begin = s.data() + from;
  size_t n = s.size() - from;
  const void* cr = std::memchr(begin, '\r', n);
  size_t limit = cr != nullptr ? static_cast<size_t>(static_cast<const char*>(cr) - begin) : n;
  const void* lf = std::memchr(begin, '\n', limit);
  if (lf != nullptr) {
    return from + static_cast<size_t>(static_cast<const char*>(lf) - begin);
  }
  return cr != nullptr ? from + limit : std::string_view::npos;
}

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
bool all_ascii(std::string_view s);

// Length of the well-formed UTF-8 sequence (RFC 3629 §4: no overlong forms, no surrogates, at
// most U+10FFFF) that starts `s`, or 0 when there is none.
size_t utf8_sequence_length(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace hk::smtp
