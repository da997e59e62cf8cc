// Line splitting shared by the users and aliases parsers (internal to hk_domains).
#pragma once

#include <string_view>
#include <vector>

#include "lib/base/text.hpp"

namespace hk::domains {

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trim(std::string_view s) { return base::trim(s, " \t\r"); }

// Calls fn(line_number, trimmed_line) for each line that is neither blank nor a comment (first
// non-blank character '#'). Line numbers start at 1.
template <class Fn>
void for_each_line(std::string_view text, Fn fn) {
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    line = trim(line);
    if (!line.empty() && line.front() != '#') {
      fn(line_no, line);
    }
  }
}

// Splits on runs of spaces and tabs.
inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    size_t start = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

}  // namespace hk::domains
