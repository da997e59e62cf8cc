// UTF-8 validation (RFC 3629): the SMTPUTF8 checks, the JSON escaper.
#pragma once

#include <cstddef>
#include <string_view>

namespace hk::base {

// Length of the well-formed UTF-8 sequence (RFC 3629 §4: no overlong forms, no surrogates, at
// most U+10FFFF) that starts `s`, or 0 when there is none.
size_t utf8_sequence_length(std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace hk::base
