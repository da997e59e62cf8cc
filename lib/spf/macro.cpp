// SPF macro expansion (RFC 7208 §7).
#include "lib/spf/macro.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "lib/base/ascii.hpp"

namespace hk::spf {

namespace {

bool is_letter_allowed(char c, MacroMode mode) {
  switch (base::to_lower(c)) {
    case 's':
    case 'l':
    case 'o':
    case 'd':
    case 'i':
    case 'p':
    case 'h':
    case 'v':
      return true;
    case 'c':
    case 'r':
    case 't':
      return mode == MacroMode::Explanation;  // §7.2: only in "exp" text
    default:
      return false;
  }
}

bool is_delimiter(char c) {
  // §7.1: delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

// The IP in the form of the i macro: dotted quad, or 32 dot-separated nibbles for IPv6 (§7.3).
std::string ip_dotted(const boost::asio::ip::address& ip) {
  if (ip.is_v4()) {
    return ip.to_string();
  }
  std::string out;
  for (unsigned char byte : ip.to_v6().to_bytes()) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (!out.empty()) {
      out += '.';
    }
    out += kHex[byte >> 4];
    out += '.';
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string local_part(const std::string& sender) {
  auto at = sender.rfind('@');
  return at == std::string::npos ? std::string("postmaster") : sender.substr(0, at);
}

std::string sender_domain(const std::string& sender) {
  auto at = sender.rfind('@');
  return at == std::string::npos ? sender : sender.substr(at + 1);
}

std::string letter_value(char letter, const MacroContext& ctx) {
  switch (base::to_lower(letter)) {
    case 's':
      return ctx.sender;
    case 'l':
      return local_part(ctx.sender);
    case 'o':
      return sender_domain(ctx.sender);
    case 'd':
      return ctx.domain;
    case 'i':
      return ip_dotted(ctx.ip);
    case 'p':
      return ctx.validated.empty() ? std::string("unknown") : ctx.validated;
    case 'h':
      return ctx.helo;
    case 'v':
      return ctx.ip.is_v4() ? "in-addr" : "ip6";
    case 'c':
      return ctx.ip.to_string();
    case 'r':
      return ctx.receiver.empty() ? std::string("unknown") : ctx.receiver;
    case 't':
      return std::to_string(ctx.timestamp);
  }
  return {};
}

// URL-escapes what is not an unreserved character (§7.3, RFC 3986 §2.3).
std::string url_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    // "%02X" wants the octet's value, not a possibly negative char.
    auto c = static_cast<unsigned char>(ch);
    if (base::is_alnum(ch) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Applies transformers and delimiters (§7.3) to a value.
std::string transform(const std::string& value, int digits, bool reverse,
                      std::string_view delimiters) {
  if (delimiters.empty()) {
    delimiters = ".";
  }
  std::vector<std::string> parts;
  std::string cur;
  for (char c : value) {
    if (delimiters.find(c) != std::string_view::npos) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  if (reverse) {
    std::vector<std::string> rev(parts.rbegin(), parts.rend());
    parts.swap(rev);
  }
  std::size_t first = 0;
  if (digits > 0 && static_cast<std::size_t>(digits) < parts.size()) {
    first = parts.size() - static_cast<std::size_t>(digits);
  }
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i != first) {
      out += '.';
    }
    out += parts[i];
  }
  return out;
}

// Walks `s`; appends the expansion to `out` when `ctx` is given. False on a syntax error.
bool walk(std::string_view s, const MacroContext* ctx, MacroMode mode, std::string* out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != '%') {
      // macro-literal = %x21-24 / %x26-7E; explanation text also allows SP (§6.2).
      bool literal = (c >= 0x21 && c <= 0x7e) || (c == ' ' && mode == MacroMode::Explanation);
      if (!literal) {
        return false;
      }
      if (out) {
        *out += static_cast<char>(c);
      }
      continue;
    }
    if (++i >= s.size()) {
      return false;
    }
    char next = s[i];
    if (next == '%' || next == '_' || next == '-') {
      if (out) {
        *out += next == '%' ? "%" : next == '_' ? " " : "%20";
      }
      continue;
    }
    if (next != '{' || ++i >= s.size()) {
      return false;
    }
    char letter = s[i++];
    if (!is_letter_allowed(letter, mode)) {
      return false;
    }
    int digits = 0;
    bool has_digits = false;
    while (i < s.size() && base::is_digit(s[i])) {
      has_digits = true;
      digits = std::min(digits * 10 + (s[i] - '0'), 1000);
      ++i;
    }
    if (has_digits && digits == 0) {
      return false;  // §7.3: the DIGIT transformer must be nonzero
    }
    bool reverse = false;
    if (i < s.size() && (s[i] == 'r' || s[i] == 'R')) {
      reverse = true;
      ++i;
    }
    std::size_t delim_start = i;
    while (i < s.size() && is_delimiter(s[i])) {
      ++i;
    }
    if (i >= s.size() || s[i] != '}') {
      return false;
    }
    if (out && ctx) {
      std::string v = transform(letter_value(letter, *ctx), digits, reverse,
                                s.substr(delim_start, i - delim_start));
      *out += base::is_upper(letter) ? url_escape(v) : v;
    }
  }
  return true;
}

// §7.3: a domain name over 253 characters loses labels from the left until it fits.
std::string truncate_domain(std::string d) {
  while (d.size() > 253) {
    auto dot = d.find('.');
    if (dot == std::string::npos) {
      break;
    }
    d.erase(0, dot + 1);
  }
  return d;
}

}  // namespace

bool valid_macro_string(std::string_view s, MacroMode mode) {
  return walk(s, nullptr, mode, nullptr);
}

bool uses_p_macro(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] == '%') {
      if (s[i + 1] == '{' && (s[i + 2] == 'p' || s[i + 2] == 'P')) {
        return true;
      }
      ++i;  // skip the escaped character of %% %_ %-
    }
  }
  return false;
}

std::optional<std::string> expand_macros(std::string_view s, const MacroContext& ctx,
                                         MacroMode mode) {
  std::string out;
  if (!walk(s, &ctx, mode, &out)) {
    return std::nullopt;
  }
  if (mode == MacroMode::DomainSpec) {
    return truncate_domain(std::move(out));
  }
  return out;
}

}  // namespace hk::spf
