// Names of users, aliases and domains: how a local part is normalized for lookup and which user
// names and domain names hk_domains accepts.
//
// Local parts are case-insensitive for lookup here. RFC 5321 §2.4 lets the receiving host decide,
// and every mailbox provider users know treats "Alice" and "alice" as one mailbox. The rule, used
// both when a user or alias is stored and when an address is looked up:
//   1. ASCII letters are lower-cased (UTF-8 bytes, RFC 6531, are kept as they are);
//   2. everything from the first '+' on is dropped (subaddressing: "alice+news" is "alice");
//   3. every '.' is dropped ("john.smith" and "johnsmith" are the same user).
// Local parts reach this code already unquoted (the SMTP layer removes RFC 5321 §4.1.2 quoting).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hk::domains {

// Applies the three rules above. "+x" and "." normalize to the empty string, which names no one.
std::string normalize_local(std::string_view local);

// A user or alias name as an administrator may write it: letters, digits, '.', and
// ! $ % & ' / = ? ^ _ ` { | } ~ - (RFC 5322 §3.2.3 atext without '+', '#' and '*', which the
// files give a meaning), or well-formed UTF-8 (RFC 3629); at most 64 octets (RFC 5321 §4.5.3.1.1);
// not empty once normalized.
bool is_valid_user_name(std::string_view name);

// A lower-case A-label domain: dot-separated LDH labels of 1-63 octets, no label starting or
// ending with '-', at most 253 octets in all (RFC 1035 §2.3.1, §2.3.4; RFC 5890 §2.3.1).
// Also guards paths: a valid domain never contains '/' or is "." or "..".
bool is_valid_domain_name(std::string_view domain);

struct Address {
  std::string local;
  std::string domain;
};

// Splits "local@domain" at the last '@'; nullopt when either side is empty. The domain is
// lower-cased; the local part is returned as written.
std::optional<Address> split_address(std::string_view address);

}  // namespace hk::domains
