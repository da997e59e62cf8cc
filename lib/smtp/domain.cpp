// Domain normalisation: LDH validation, IDNA A-labels via libidn2, address literals.
#include "lib/smtp/domain.hpp"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>

#include "lib/base/domain_name.hpp"
#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// RFC 5321 §4.5.3.1.2.
constexpr size_t kMaxDomain = 255;

bool is_ldh(char c) { return is_alnum(c) || c == '-'; }

// LDH labels per RFC 5321 sub-domain = Let-dig [Ldh-str]; rejects "", leading, trailing ("x.com.")
// and doubled dots.
bool valid_ascii_domain(std::string_view domain) {
  return base::is_domain_name(domain, {.max_length = kMaxDomain});
}

// Each label is either LDH or a U-label candidate (only UTF-8 and LDH characters, RFC 6531 §3.3
// sub-domain =/ U-label); libidn2 then decides whether the U-labels are valid IDNA.
bool plausible_utf8_domain(std::string_view domain) {
  if (!is_valid_utf8(domain)) {
    return false;
  }
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty()) {
      return false;
    }
    for (char c : label) {
      if (is_ascii(c) && !is_ldh(c)) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

std::string to_a_label(std::string_view domain) {
  std::string input(domain);
  char* output = nullptr;
  // UTS #46 non-transitional processing maps upper case and NFC-normalises; STD3 rules keep the
  // result within LDH.
  int rc = idn2_to_ascii_8z(input.c_str(), &output,
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL | IDN2_USE_STD3_ASCII_RULES);
  if (rc != IDN2_OK || output == nullptr) {
    idn2_free(output);
    return {};
  }
  std::string result = to_lower(output);
  idn2_free(output);
  return valid_ascii_domain(result) ? result : std::string();
}

// RFC 5321 §4.1.3 Snum 3("." Snum), Snum = 1*3DIGIT with value 0-255.
bool valid_ipv4_literal(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t digits = 0;
    int value = 0;
    while (i < s.size() && is_digit(s[i]) && digits < 3) {
      value = value * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || value > 255) {
      return false;
    }
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') {
        return false;
      }
      ++i;
    }
  }
  return i == s.size();
}

}  // namespace

std::string normalize_domain(std::string_view domain) {
  if (all_ascii(domain)) {
    return valid_ascii_domain(domain) ? to_lower(domain) : std::string();
  }
  if (domain.size() > kMaxDomain || !plausible_utf8_domain(domain)) {
    return {};
  }
  return to_a_label(domain);
}

std::string normalize_address_literal(std::string_view inner) {
  if (valid_ipv4_literal(inner)) {
    return "[" + std::string(inner) + "]";
  }
  if (istarts_with(inner, "IPv6:")) {
    std::string addr(inner.substr(5));
    in6_addr parsed{};
    // 45 = INET6_ADDRSTRLEN - 1, the longest text form (IPv4-mapped, RFC 4291 §2.2).
    if (addr.empty() || addr.size() > 45 || inet_pton(AF_INET6, addr.c_str(), &parsed) != 1) {
      return {};
    }
    return "[IPv6:" + to_lower(addr) + "]";
  }
  return {};
}

}  // namespace hk::smtp
