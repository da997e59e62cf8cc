// base64 codec.
#include "lib/base/base64.hpp"

#include <cstdint>

namespace hk::base {
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

}  // namespace

std::string base64_encode(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v =
        (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | uint32_t{bytes[i + 2]};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t v = uint32_t{bytes[i]} << 16;
    if (left == 2) {
      v |= uint32_t{bytes[i + 1]} << 8;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(
      std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::optional<std::string> base64_decode(std::string_view text, Base64Tail tail) {
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
    if (tail == Base64Tail::Canonical &&
        ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0))) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace hk::base
