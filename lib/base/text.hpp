// Small text helpers shared by the parsers (config-like files, SMTP commands, DKIM tags, HTTP
// headers, MTA-STS policies).
#pragma once

#include <string_view>

namespace hk::base {

// `s` without the characters of `chars` at either end; " \t" (WSP, RFC 5234) by default.
inline std::string_view trim(std::string_view s, std::string_view chars = " \t") {
  size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

}  // namespace hk::base
