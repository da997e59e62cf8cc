// TLS-Required: No (RFC 8689 §3).
#include "lib/smtp/tls_required.hpp"

#include <string>

#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

constexpr std::string_view kField = "tls-required";

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// The value with its folding (CRLF/LF followed by WSP) and surrounding white space removed.
std::string unfold_trim(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  size_t b = 0;
  while (b < out.size() && is_wsp(out[b])) {
    ++b;
  }
  size_t e = out.size();
  while (e > b && is_wsp(out[e - 1])) {
    --e;
  }
  return out.substr(b, e - b);
}

}  // namespace

bool tls_required_no(std::string_view message) {
  bool seen = false;
  size_t pos = 0;
  while (pos < message.size()) {
    // One field: its first line, then continuation lines that start with WSP (RFC 5322 §2.2.3).
    size_t end = pos;
    for (;;) {
      size_t nl = message.find('\n', end);
      end = nl == std::string_view::npos ? message.size() : nl + 1;
      if (end >= message.size() || !is_wsp(message[end])) {
        break;
      }
    }
    std::string_view field = message.substr(pos, end - pos);
    pos = end;
    if (field == "\r\n" || field == "\n") {
      break;  // the empty line: the body follows
    }
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = field.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) {
      name.remove_suffix(1);
    }
    if (!iequals(name, kField)) {
      continue;
    }
    if (!iequals(unfold_trim(field.substr(colon + 1)), "no")) {
      return false;
    }
    seen = true;
  }
  return seen;
}

}  // namespace hk::smtp
