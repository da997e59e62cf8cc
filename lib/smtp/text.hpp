// Character helpers shared by the SMTP parsers: ASCII classes and case folding (SMTP verbs,
// keywords and domains are case-insensitive, RFC 5321 §2.4), UTF-8 validation (RFC 3629), and
// the line-break search.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "lib/base/ascii.hpp"
#include "lib/base/utf8.hpp"

namespace hk::smtp {

// The ASCII and UTF-8 helpers are lib/base's, named here for the SMTP code.
using base::all_ascii;
using base::iequals;
using base::is_alnum;
using base::is_alpha;
using base::is_ascii;
using base::is_digit;
using base::is_valid_utf8;
using base::istarts_with;
using base::to_lower;
using base::to_upper;
using base::utf8_sequence_length;

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

}  // namespace hk::smtp
