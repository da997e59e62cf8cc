// Parsing of an aliases file.
#include "domains/aliases.hpp"

#include "domains/domains_error.hpp"
#include "domains/local_part.hpp"
#include "domains/text_lines.hpp"
#include "lib/base/files.hpp"

namespace hk::domains {
namespace {

constexpr std::string_view kCatchAll = "*";

// Cuts a trailing comment: '#' after a blank. Targets hold no blanks, so this is unambiguous.
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '#' && is_blank(line[i - 1])) {
      return trim(line.substr(0, i));
    }
  }
  return line;
}

bool has_blank_or_control(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<AliasTarget> parse_alias_target(std::string_view text) {
  if (text.empty() || has_blank_or_control(text) || text.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  if (text.find('@') == std::string_view::npos) {
    // A bare name: a user or alias of the same domain; "+suffix" is allowed and dropped later.
    std::string_view base = text.substr(0, text.find('+'));
    if (!is_valid_user_name(base)) {
      return std::nullopt;
    }
    return AliasTarget{std::string(text), ""};
  }
  auto address = split_address(text);
  if (!address || !is_valid_domain_name(address->domain)) {
    return std::nullopt;
  }
  return AliasTarget{std::move(address->local), std::move(address->domain)};
}

std::optional<std::vector<AliasTarget>> parse_alias_targets(std::string_view text,
                                                            std::string& error) {
  std::vector<AliasTarget> out;
  for (;;) {
    size_t comma = text.find(',');
    std::string_view one = trim(text.substr(0, comma));
    if (one.empty()) {
      error = "empty target";
      return std::nullopt;
    }
    auto target = parse_alias_target(one);
    if (!target) {
      error = "invalid target \"" + std::string(one) + "\"";
      return std::nullopt;
    }
    out.push_back(std::move(*target));
    if (comma == std::string_view::npos) {
      return out;
    }
    text.remove_prefix(comma + 1);
  }
}

std::string format_alias_target(const AliasTarget& target) {
  return target.domain.empty() ? target.local : target.local + "@" + target.domain;
}

std::string format_alias_line(std::string_view name, const std::vector<AliasTarget>& targets) {
  std::string out(name);
  out += ':';
  for (size_t i = 0; i < targets.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += format_alias_target(targets[i]);
  }
  return out;
}

AliasTable AliasTable::parse(std::string_view text, std::string_view file_name) {
  AliasTable table;
  for_each_line(text, [&](int line_no, std::string_view line) {
    auto fail = [&](const std::string& msg) {
      throw DomainsError(std::string(file_name) + ":" + std::to_string(line_no) + ": " + msg);
    };
    line = strip_comment(line);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail("expected \"name: target, target\", no ':' found");
    }
    std::string_view raw_name = trim(line.substr(0, colon));
    std::string name;
    if (raw_name == kCatchAll) {
      name = kCatchAll;
    } else if (is_valid_user_name(raw_name)) {
      name = normalize_local(raw_name);
    } else if (raw_name.find('+') != std::string_view::npos) {
      fail("invalid alias name \"" + std::string(raw_name) + "\" ('+' starts a subaddress)");
    } else {
      fail("invalid alias name \"" + std::string(raw_name) + "\"");
    }
    std::string_view rest = trim(line.substr(colon + 1));
    if (rest.empty()) {
      fail("no targets for \"" + name + "\"");
    }
    std::string error;
    auto targets = parse_alias_targets(rest, error);
    if (!targets) {
      fail(error + " for \"" + name + "\"");
    }
    auto [it, inserted] = table.index_.emplace(name, table.entries_.size());
    if (!inserted) {
      fail("duplicate alias \"" + name + "\" (first on line " +
           std::to_string(table.entries_[it->second].line) + ")");
    }
    table.entries_.push_back(AliasEntry{std::move(name), std::move(*targets), line_no});
  });
  return table;
}

AliasTable AliasTable::load(const std::filesystem::path& file) {
  std::string text;
  if (std::error_code ec = base::read_file(file, text)) {
    throw DomainsError(file.string() + ": " + ec.message());
  }
  return parse(text, file.string());
}

const AliasEntry* AliasTable::find(std::string_view normalized_local) const {
  if (normalized_local == kCatchAll) {
    return nullptr;
  }
  auto it = index_.find(normalized_local);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const AliasEntry* AliasTable::catch_all() const {
  auto it = index_.find(kCatchAll);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

}  // namespace hk::domains
