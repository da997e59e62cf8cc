// AliasTable: one domain's aliases file, CONFIG_DIR/domains/<domain>/aliases.
//
// Format, one alias per line:
//   # comment                      '#' first on a line, or after a blank, starts a comment
//   sales: alice, bob@example.org   name, ':', targets separated by ','
//   *: postmaster                   catch-all: used only when no user and no alias matches
// Names are user names (local_part.hpp) or "*", stored normalized; a name given twice is an
// error. A target is a full address ("bob@example.org", the domain lower-cased, the local part
// kept as written) or a bare local name meaning the same domain ("alice"). Targets hold no
// blanks. How targets are followed (chains, other local domains, loops) is Domains::resolve().
// Errors read "file:line: message".
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hk::domains {

struct AliasTarget {
  std::string local;
  std::string domain;  // empty: the domain of the aliases file
  bool operator==(const AliasTarget&) const = default;
};

struct AliasEntry {
  std::string name;  // normalized, or "*"
  std::vector<AliasTarget> targets;
  int line = 0;  // where the entry stands in its file
};

class AliasTable {
 public:
  AliasTable() = default;

  // Throws DomainsError.
  static AliasTable load(const std::filesystem::path& file);
  // As load(), from text; `file_name` only prefixes error messages.
  static AliasTable parse(std::string_view text, std::string_view file_name);

  // The entry for a normalized local part, or nullptr. Never returns the catch-all.
  const AliasEntry* find(std::string_view normalized_local) const;
  const AliasEntry* catch_all() const;
  const std::vector<AliasEntry>& entries() const { return entries_; }

 private:
  std::vector<AliasEntry> entries_;                   // file order, catch-all included
  std::map<std::string, size_t, std::less<>> index_;  // name -> entries_ position
};

// One target as written in the file: "local@domain" or a bare name. nullopt when malformed.
std::optional<AliasTarget> parse_alias_target(std::string_view text);
// Parses a comma-separated target list; nullopt plus `error` when one is malformed or empty.
std::optional<std::vector<AliasTarget>> parse_alias_targets(std::string_view text,
                                                            std::string& error);
// Back to text: "local@domain" or "local".
std::string format_alias_target(const AliasTarget& target);
// One line of the file: "name: t1, t2".
std::string format_alias_line(std::string_view name, const std::vector<AliasTarget>& targets);

}  // namespace hk::domains
