// JSON string literals (RFC 8259 §7) for the machine-readable output of hikyaku-util.
#pragma once

#include <string>
#include <string_view>

namespace hk::base {

// Appends `text` as a quoted JSON string: '"' and '\' escaped, LF, CR and TAB as \n \r \t, other
// control characters and DEL as \u00XX. Valid UTF-8 passes as is; a byte that starts no valid
// sequence (a remote reply may hold anything) becomes \ufffd, so the output always parses.
void append_json_string(std::string& out, std::string_view text);

}  // namespace hk::base
