// The one-line form of a reply: written for logs, DSNs and the state sidecar, split when read.
#include "lib/queue/delivery_result.hpp"

namespace hk::queue {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Whether a part of length `n` at the front of `s` ends there: at the end of `s`, or at a space
// with more after it. A space at the very end belongs to the text, so that reply_line() gives
// back exactly the line that was split.
bool part_ends(std::string_view s, size_t n) {
  return n == s.size() || (s[n] == ' ' && n + 1 < s.size());
}

// The length of an enhanced status code at the front of `s` (RFC 3463 §2: a class of 2, 4 or 5,
// then subject and detail of 1 to 3 digits each) that ends there (part_ends()); 0 when there is
// none.
size_t enhanced_length(std::string_view s) {
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    size_t digits = 0;
    while (i < s.size() && is_digit(s[i]) && digits < 3) {
      ++i;
      ++digits;
    }
    if (digits == 0) {
      return 0;
    }
    if (part == 0) {
      if (i >= s.size() || s[i] != '.') {
        return 0;
      }
      ++i;
    }
  }
  return part_ends(s, i) ? i : 0;
}

}  // namespace

std::string DeliveryResult::line() const { return reply_line(code, enhanced, text); }

std::string reply_line(int code, std::string_view enhanced, std::string_view text) {
  std::string out;
  auto add = [&out](std::string_view part) {
    if (!part.empty()) {
      if (!out.empty()) {
        out += ' ';
      }
      out += part;
    }
  };
  if (code != 0) {
    out = std::to_string(code);
  }
  add(enhanced);
  add(text);
  return out;
}

ReplyParts split_reply_line(std::string_view line) {
  ReplyParts out;
  std::string_view rest = line;
  // RFC 5321 §4.2.1: a reply code is three digits, 2xx to 5xx in a final reply.
  if (line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && is_digit(line[1]) &&
      is_digit(line[2]) && part_ends(line, 3)) {
    out.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    rest = line.size() > 3 ? line.substr(4) : std::string_view();
  }
  // RFC 3463 §2 / RFC 2034 §4: the class of the enhanced code repeats the reply code's first
  // digit; one that disagrees is not an enhanced code but part of the text.
  size_t n = enhanced_length(rest);
  if (n != 0 && (out.code == 0 || rest[0] - '0' == out.code / 100)) {
    out.enhanced = std::string(rest.substr(0, n));
    rest = n < rest.size() ? rest.substr(n + 1) : std::string_view();
  }
  out.text = std::string(rest);
  return out;
}

}  // namespace hk::queue
