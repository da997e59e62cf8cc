// Helpers shared by the files of lib/mime (not part of its interface): charset conversion,
// transfer decodings, header parameters.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mime/mime.hpp"

namespace hk::mime::detail {

// `bytes` as UTF-8: valid sequences kept, every other byte read as windows-1252 (Latin-1 for the
// five bytes it leaves undefined). The result is always valid UTF-8.
std::string fix_utf8(std::string_view bytes);

// Appends the UTF-8 form of code point `cp` (U+FFFD for surrogates and values past U+10FFFF).
void append_utf8(std::string& out, unsigned long cp);

// RFC 2045 §6.8 base64, leniently: characters outside the alphabet (line breaks, spaces, garbage)
// are skipped, '=' ends a group early (so concatenated padded blocks still decode), a final group
// of two or three characters gives its one or two bytes.
std::string decode_base64(std::string_view text);

// RFC 2045 §6.7 quoted-printable, leniently: soft line breaks ("=" at a line end, trailing
// whitespace allowed after it), hex in either case, a bad escape kept as written, whitespace at
// line ends dropped (§6.7 rule 3: it was added in transport).
std::string decode_quoted_printable(std::string_view text);

// RFC 2047 §4.2 "Q": as quoted-printable, "_" is a space, no line structure.
std::string decode_q(std::string_view text);

// One parameter of a Content-Type or Content-Disposition field, after RFC 2231 continuations and
// charsets were undone: name lower case, value UTF-8.
struct Param {
  std::string name;
  std::string value;
};

// "type/subtype; a=b; c*=utf-8''%E2%82%AC" → the value before the first ';' (lower case, trimmed)
// and its parameters.
struct FieldWithParams {
  std::string value;
  std::vector<Param> params;
  const std::string* param(std::string_view name) const;
};
FieldWithParams parse_field_with_params(std::string_view raw);

// The header section at the start of `raw` (RFC 5322 §2.2), unfolded and decoded; body_start is
// where the body begins (after the empty line). A line that is neither a field nor a
// continuation ends the section there (the body starts with it) and sets `malformed`.
std::vector<Header> parse_header_block(std::string_view raw, size_t& body_start, bool& malformed);

// Strips RFC 5322 comments (nested, quoted-pairs honoured, quoted strings left alone); each
// comment becomes one space. Linear; an unclosed comment runs to the end.
std::string strip_comments(std::string_view s);

}  // namespace hk::mime::detail
