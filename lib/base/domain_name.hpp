// Domain-name syntax: dot-separated labels of at most 63 octets, at most 253 octets in all
// (RFC 1035 §2.3.4; 255 on the wire), and by default LDH labels (RFC 1035 §2.3.1, RFC 5321
// §4.1.2 sub-domain = Let-dig [Ldh-str]: letters, digits, hyphens, no hyphen at either end).
// The callers differ in small ways, each kept by a field of DomainSyntax.
#pragma once

#include <cstddef>
#include <string_view>

namespace hk::base {

enum class LabelChars {
  Ldh,       // LDH, either case
  LdhLower,  // LDH in lower case only (names already normalised: policies, domain folders)
  Any,       // any octets; only lengths are checked (SPF's target names, RFC 7208 §4.3)
};

struct DomainSyntax {
  LabelChars chars = LabelChars::Ldh;
  size_t max_length = 253;        // without the optional trailing dot
  bool numeric_top_label = true;  // false: the last label may not be all digits ("1.2.3.4")
  bool trailing_dot = false;      // one final "." (the root) is accepted and not counted
  size_t min_labels = 1;          // 2: a dot is required
};

bool is_domain_name(std::string_view name, const DomainSyntax& syntax = {});

}  // namespace hk::base
