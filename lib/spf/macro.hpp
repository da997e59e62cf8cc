// SPF macros (RFC 7208 §7): checking a macro-string's syntax and expanding it.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hk::spf {

// The values the macro letters stand for (RFC 7208 §7.3).
struct MacroContext {
  std::string sender;           // s: <sender>, "postmaster@<helo>" when MAIL FROM is empty
  std::string domain;           // d: the <domain> of the current check_host()
  boost::asio::ip::address ip;  // i, c, v
  std::string helo;             // h
  std::string validated;        // p: the validated host name of the client, "unknown" if none
  std::string receiver;         // r
  long long timestamp = 0;      // t
};

// Where the string sits: a domain-spec (letters c, r, t are forbidden there) or the text of an
// explanation TXT record (§6.2, where c, r, t and spaces are allowed).
enum class MacroMode { DomainSpec, Explanation };

// True when `s` is a valid macro-string (§7.1) for `mode`.
bool valid_macro_string(std::string_view s, MacroMode mode);

// True when `s` uses the p macro, whose value costs DNS lookups.
bool uses_p_macro(std::string_view s);

// Expands every macro of `s`; nullopt when `s` is not a valid macro-string for `mode`.
// Domain-spec results longer than 253 characters lose labels on the left (§7.3).
std::optional<std::string> expand_macros(std::string_view s, const MacroContext& ctx,
                                         MacroMode mode);

}  // namespace hk::spf
