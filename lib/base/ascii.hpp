// ASCII character classes and case folding. Protocol keywords, domain names and header field
// names are case-insensitive in ASCII only (RFC 5321 §2.4, RFC 5322 §1.2.2, RFC 4343), so these
// never consult the locale the way <cctype> does.
#pragma once

#include <string>
#include <string_view>

namespace hk::base {

inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
inline bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
inline char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
inline char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
// The value of a hexadecimal digit (either case), or -1 for any other character.
inline int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  const char l = to_lower(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
void lower_in_place(std::string& s);
// Inline: the session compares every header field name and command verb with these, and a
// call into another library costs more than the comparison (tests/bench/instructions.sh).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) {
      return false;
    }
  }
  return true;
}
inline bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
bool all_ascii(std::string_view s);

}  // namespace hk::base
