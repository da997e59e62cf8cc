// UTF-8 validation.
#include "lib/base/utf8.hpp"

namespace hk::base {

size_t utf8_sequence_length(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto tail = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) {
    return 1;
  }
  // RFC 3629 §4 table: the second byte's range depends on the first to exclude overlong forms,
  // UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..).
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    return tail(1) ? 2 : 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!tail(1) || !tail(2)) {
      return 0;
    }
    unsigned char b1 = byte(1);
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F)) {
      return 0;
    }
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!tail(1) || !tail(2) || !tail(3)) {
      return 0;
    }
    unsigned char b1 = byte(1);
    if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 > 0x8F)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

bool is_valid_utf8(std::string_view s) {
  while (!s.empty()) {
    size_t n = utf8_sequence_length(s);
    if (n == 0) {
      return false;
    }
    s.remove_prefix(n);
  }
  return true;
}

}  // namespace hk::base
