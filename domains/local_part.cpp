// Normalization and validation of local parts and domain names.
#include "domains/local_part.hpp"

#include <cstddef>

namespace hk::domains {
namespace {

constexpr size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1
constexpr size_t kMaxDomain = 253;    // RFC 1035 §2.3.4 (255 octets on the wire)
constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629 §4), 0 when malformed.
size_t utf8_length(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) {
      return 0;
    }
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) {
      return 0;  // overlong form or UTF-16 surrogate
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) {
      return 0;  // overlong form or beyond U+10FFFF
    }
    return 4;
  }
  return 0;
}

bool is_name_symbol(char c) {
  switch (c) {
    case '.':
    case '!':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
    case '-':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string normalize_local(std::string_view local) {
  std::string out;
  out.reserve(local.size());
  for (char c : local) {
    if (c == '+') {
      break;
    }
    if (c != '.') {
      out += lower(c);
    }
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = lower(c);
  }
  return out;
}

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxLocalPart) {
    return false;
  }
  for (size_t i = 0; i < name.size();) {
    char c = name[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t n = utf8_length(name.substr(i));
      if (n == 0) {
        return false;
      }
      i += n;
      continue;
    }
    if (!is_alnum(c) && !is_name_symbol(c)) {
      return false;
    }
    ++i;
  }
  return !normalize_local(name).empty();
}

bool is_valid_domain_name(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomain) {
    return false;
  }
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

std::optional<Address> split_address(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return std::nullopt;
  }
  return Address{std::string(address.substr(0, at)), ascii_lower(address.substr(at + 1))};
}

}  // namespace hk::domains
