// hikyaku-util commands for aliases: aliases-resolve, aliases-add.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "domains/domains.hpp"
#include "lib/base/files.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/ownership.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;
using domains::Resolution;

constexpr std::string_view kAliasesHeader =
    "# hikyaku aliases: \"name: target, target\"; a target is user@domain or a local name;\n"
    "# \"*: target\" catches every address that names no user and no alias.\n";

void print_resolution(const Resolution& r) {
  for (const Resolution::Target& t : r.targets) {
    std::cout << (t.kind == Resolution::Kind::LocalUser ? "local " : "remote ") << t.address
              << "\n";
  }
}

int aliases_resolve(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(1, "ADDRESS");
  auto address = domains::split_address(args.positional()[0]);
  if (!address || !domains::is_valid_domain_name(address->domain)) {
    throw UsageError("ADDRESS must be local@domain, got \"" + args.positional()[0] + "\"");
  }
  auto snapshot = domains::Domains::load(ctx.domains_dir());
  Resolution r = snapshot->resolve(address->local, address->domain);
  if (!r.error.empty()) {
    std::cerr << "hikyaku-util: " << r.error << "\n";
    return kExitFailure;
  }
  if (r.targets.empty()) {
    std::cerr << "hikyaku-util: unknown address " << address->local << "@" << address->domain
              << "\n";
    return kExitFailure;
  }
  print_resolution(r);
  return kExitOk;
}

// Replaces line `line_no` (from 1) of `text` with `line`.
std::string replace_line(std::string_view text, int line_no, const std::string& line) {
  size_t start = 0;
  for (int i = 1; i < line_no; ++i) {
    start = text.find('\n', start) + 1;
  }
  size_t end = text.find('\n', start);
  std::string out(text.substr(0, start));
  out += line;
  if (end != std::string_view::npos) {
    out += text.substr(end);
  }
  return out;
}

int aliases_add(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  if (args.positional().size() < 2) {
    throw UsageError(args.positional().empty() ? "missing ADDRESS" : "missing TARGET");
  }
  const std::string& raw_address = args.positional()[0];
  auto address = domains::split_address(raw_address);
  if (!address || !domains::is_valid_domain_name(address->domain) ||
      (address->local != "*" && !domains::is_valid_user_name(address->local))) {
    throw UsageError("ADDRESS must be name@domain or *@domain, got \"" + raw_address + "\"");
  }
  std::string name = address->local == "*" ? "*" : domains::normalize_local(address->local);
  std::string joined;
  for (size_t i = 1; i < args.positional().size(); ++i) {
    joined += (i > 1 ? "," : "") + args.positional()[i];
  }
  std::string error;
  auto targets = domains::parse_alias_targets(joined, error);
  if (!targets) {
    throw UsageError(error);
  }

  fs::path dir = ctx.domains_dir() / address->domain;
  fs::path file = dir / "aliases";
  std::string old_text;
  mode_t mode = 0644;
  bool existed = fs::exists(file);
  if (existed) {
    if (std::error_code ec = base::read_file(file, old_text)) {
      throw domains::DomainsError(file.string() + ": " + ec.message());
    }
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) {
      mode = st.st_mode & 07777;
    }
  } else {
    old_text = kAliasesHeader;
  }
  auto table = domains::AliasTable::parse(old_text, file.string());
  std::string new_text;
  const domains::AliasEntry* entry = name == "*" ? table.catch_all() : table.find(name);
  if (entry != nullptr) {
    std::vector<domains::AliasTarget> merged = entry->targets;
    for (const auto& t : *targets) {
      if (std::find(merged.begin(), merged.end(), t) == merged.end()) {
        merged.push_back(t);
      }
    }
    new_text = replace_line(old_text, entry->line, domains::format_alias_line(name, merged));
  } else {
    new_text = old_text;
    if (!new_text.empty() && new_text.back() != '\n') {
      new_text += '\n';
    }
    new_text += domains::format_alias_line(name, *targets) + "\n";
  }
  domains::AliasTable::parse(new_text, file.string());  // never write a file that will not load

  bool created_dir = !fs::is_directory(dir);
  if (created_dir) {
    fs::create_directories(dir);
    match_parent_owner(dir);
  }
  auto write = [&](std::string_view text) {
    if (std::error_code ec = base::write_file_atomic(file, text, mode)) {
      throw domains::DomainsError(file.string() + ": " + ec.message());
    }
    match_parent_owner(file);
  };
  write(new_text);
  // A loop or a too deep chain shows only when every domain is read: undo the change then.
  Resolution r =
      domains::Domains::load(ctx.domains_dir())->resolve(name == "*" ? "*" : name, address->domain);
  if (!r.error.empty()) {
    if (existed) {
      write(old_text);
    } else {
      fs::remove(file);
      if (created_dir) {
        fs::remove(dir);
      }
    }
    std::cerr << "hikyaku-util: refused, " << r.error << "; " << file.string()
              << " left unchanged\n";
    return kExitFailure;
  }
  if (created_dir) {
    std::cout << "created " << dir.string() << ": " << address->domain
              << " is now a local domain\n";
  }
  std::cout << (entry != nullptr ? "updated " : "added ") << name << "@" << address->domain << "\n";
  if (r.targets.empty()) {
    std::cerr << "hikyaku-util: warning: " << name << "@" << address->domain
              << " reaches no recipient yet (no such users)\n";
  }
  print_resolution(r);
  return kExitOk;
}

constexpr Command kCommands[] = {
    {"aliases-resolve", "ADDRESS",
     "Print the final recipients of ADDRESS, one per line: \"local USER@DOMAIN\" or\n"
     "\"remote ADDRESS\". Exit 1 for an unknown address or an alias loop.",
     aliases_resolve},
    {"aliases-add", "ADDRESS TARGET[,TARGET...]",
     "Add targets to the alias ADDRESS (name@domain, or *@domain for the catch-all) in\n"
     "domains/DOMAIN/aliases, creating the entry or extending it. A TARGET is user@domain or a\n"
     "local name. Refuses a change that makes a loop.",
     aliases_add},
};

}  // namespace

std::span<const Command> aliases_commands() { return kCommands; }

}  // namespace hk::util
