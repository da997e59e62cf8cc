// base64, AUTH PLAIN and xtext codecs.
#include "lib/smtp/auth.hpp"

#include <cstdint>

namespace hk::smtp {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

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

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (left == 2) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    size_t pad = 0;
    if (last) {
      pad = text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
    }
    uint32_t v = 0;
    for (size_t k = 0; k < 4 - pad; ++k) {
      int d = base64_value(text[i + k]);
      if (d < 0) {
        return std::nullopt;  // also catches '=' in the middle
      }
      v |= static_cast<uint32_t>(d) << (18 - 6 * k);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) {
      out += static_cast<char>((v >> 8) & 0xFF);
    }
    if (pad < 1) {
      out += static_cast<char>(v & 0xFF);
    }
    // RFC 4648 §3.5: canonical encodings have zero bits after the last byte.
    if ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0)) {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<PlainCredentials> decode_auth_plain(std::string_view base64) {
  std::optional<std::string> message = base64_decode(base64);
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
