// Quoted strings with backslash escapes, the one rule shared by RFC 5321/5322 quoted-strings
// (local parts, Received-SPF's envelope-from) and RFC 1035 §5.1 zone-file character-strings:
// '"' and '\' are preceded by a backslash. Callers keep CR/LF out; these grammars forbid them.
#pragma once

#include <string>
#include <string_view>

namespace hk::base {

// Appends `text` to `out` as "text" with '"' and '\' escaped.
inline void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
}

}  // namespace hk::base
