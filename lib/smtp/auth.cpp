// AUTH PLAIN and xtext codecs.
#include "lib/smtp/auth.hpp"

#include <cstdint>

#include "lib/base/base64.hpp"

namespace hk::smtp {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;  // RFC 3461 §4: hexchar uses upper case only
}

// RFC 4616 §2: authzid, authcid and passwd are each 1 to 255 octets.
constexpr size_t kMaxPlainField = 255;

}  // namespace

std::optional<PlainCredentials> decode_auth_plain(std::string_view base64) {
  std::optional<std::string> message = base::base64_decode(base64);
  if (!message) {
    return std::nullopt;
  }
  std::string_view m = *message;
  size_t first = m.find('\0');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  size_t second = m.find('\0', first + 1);
  if (second == std::string_view::npos || m.find('\0', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  PlainCredentials creds;
  creds.authzid = std::string(m.substr(0, first));
  creds.authcid = std::string(m.substr(first + 1, second - first - 1));
  creds.password = std::string(m.substr(second + 1));
  if (creds.authcid.empty() || creds.password.empty() || creds.authzid.size() > kMaxPlainField ||
      creds.authcid.size() > kMaxPlainField || creds.password.size() > kMaxPlainField) {
    return std::nullopt;
  }
  if (!creds.authzid.empty() && creds.authzid != creds.authcid) {
    return std::nullopt;
  }
  return creds;
}

std::optional<std::string> xtext_decode(std::string_view xtext) {
  std::string out;
  out.reserve(xtext.size());
  for (size_t i = 0; i < xtext.size(); ++i) {
    char c = xtext[i];
    if (c == '+') {
      if (i + 2 >= xtext.size()) {
        return std::nullopt;
      }
      int hi = hex_value(xtext[i + 1]);
      int lo = hex_value(xtext[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c >= '!' && c <= '~' && c != '=') {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string xtext_encode(std::string_view bytes) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '+';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

}  // namespace hk::smtp
