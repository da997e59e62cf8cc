// Normalization and validation of local parts and domain names.
#include "domains/local_part.hpp"

#include <cstddef>

#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"
#include "lib/base/utf8.hpp"

namespace hk::domains {
namespace {

constexpr size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1
constexpr size_t kMaxDomain = 253;    // RFC 1035 §2.3.4 (255 octets on the wire)

using base::is_alnum;
using base::to_lower;

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
      out += to_lower(c);
    }
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
      size_t n = base::utf8_sequence_length(name.substr(i));
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
  return base::is_domain_name(domain,
                              {.chars = base::LabelChars::LdhLower, .max_length = kMaxDomain});
}

std::optional<Address> split_address(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return std::nullopt;
  }
  return Address{std::string(address.substr(0, at)), base::to_lower(address.substr(at + 1))};
}

}  // namespace hk::domains
