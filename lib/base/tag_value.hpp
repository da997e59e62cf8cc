// Tag=value lists: DKIM signatures and key records (RFC 6376 §3.2), DMARC records (RFC 7489 §6.4,
// which reuses the DKIM syntax) and the MTA-STS TXT record (RFC 8461 §3.1, its own grammar).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hk::base {

enum class TagGrammar {
  // RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC; FWS around "=" and ";"; a value is VALCHARs
  // (%x21-3A / %x3C-7E) with FWS between them, possibly empty.
  Rfc6376,
  // RFC 8461 §3.1: sts-field-delim = *WSP ";" *WSP; nothing around "="; sts-ext-name =
  // (ALPHA / DIGIT) 0*31(ALPHA / DIGIT / "_" / "-" / "."); sts-ext-value = 1*(%x21-3A / %x3C /
  // %x3E-7E).
  Rfc8461,
};

struct TagListSyntax {
  TagGrammar grammar = TagGrammar::Rfc6376;
  // Never fail: a tag-spec without "=" is skipped, names and values are only trimmed, not
  // checked. For a caller that reads a few tags and leaves validation to someone else.
  bool lenient = false;
  // All whitespace removed from values, as RFC 6376 §3.5 (b=, bh=) and §3.6.1 (p=) require.
  bool strip_value_whitespace = false;
  // RFC 6376 §3.2: "Tags with duplicate names MUST NOT occur within a single tag-list"; true keeps
  // every occurrence in order instead.
  bool duplicates_allowed = false;
};

struct Tag {
  std::string name;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct TagList {
  std::vector<Tag> tags;  // in the order of the text
  std::string error;      // empty when the list is well-formed

  bool ok() const { return error.empty(); }
  // The value of the first tag called `name` (case-sensitive, RFC 6376 §3.2), or nullptr.
  const std::string* find(std::string_view name) const;
};

TagList parse_tag_list(std::string_view text, const TagListSyntax& syntax = {});

}  // namespace hk::base
