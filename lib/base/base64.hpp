// base64 (RFC 4648 §4, the standard alphabet with padding): SMTP AUTH, DKIM keys and signatures,
// password hashes.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hk::base {

std::string base64_encode(std::string_view bytes);
std::string base64_encode(std::span<const unsigned char> bytes);

// What the decoder does with the unused bits of a final group ("QQ==" against "QR=="):
// RFC 4648 §3.5 lets a decoder reject them when they are not zero.
enum class Base64Tail {
  Canonical,  // non-zero unused bits are an error (SMTP AUTH)
  AnyBits,    // ignored, as OpenSSL's EVP_DecodeBlock does (password hashes)
};

// Strict: length a multiple of 4, '=' only as the last one or two characters, no whitespace, no
// characters outside the alphabet. The empty text decodes to the empty string; callers for which
// empty is an error say so themselves.
std::optional<std::string> base64_decode(std::string_view text,
                                         Base64Tail tail = Base64Tail::Canonical);

}  // namespace hk::base
