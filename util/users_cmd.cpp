// hikyaku-util commands for users: user-add, user-remove, user-list, authenticate, check-userdb.
// SECURITY: passwords are taken from stdin or typed without echo; --password=P is for scripts on
// a single-user machine only (other users see it in ps). Users files are written with mode 0600.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "domains/domains.hpp"
#include "lib/base/files.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/ownership.hpp"
#include "util/terminal.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;
using domains::DomainsError;

// The password from --password=P, --password-stdin, or the terminal (asked twice when `confirm`).
std::string get_password(const Args& args, std::string_view who, bool confirm) {
  auto given = args.value("password");
  bool from_stdin = args.has("password-stdin");
  if (given && from_stdin) {
    throw UsageError("give either --password or --password-stdin, not both");
  }
  std::string password;
  if (given) {
    password = *given;
  } else if (from_stdin) {
    auto line = read_stdin_line();
    if (!line) {
      throw UsageError("--password-stdin: no password on standard input");
    }
    password = std::move(*line);
  } else if (stdin_is_terminal()) {
    auto first = read_secret("Password for " + std::string(who) + ": ");
    if (!first) {
      throw UsageError("no password typed");
    }
    password = std::move(*first);
    if (confirm && !password.empty()) {
      auto again = read_secret("Repeat the password: ");
      if (!again || *again != password) {
        throw std::runtime_error("the passwords do not match; nothing changed");
      }
    }
  } else {
    throw UsageError("no password: give --password=P or --password-stdin");
  }
  if (password.empty()) {
    throw UsageError("empty password refused");
  }
  return password;
}

domains::UserDb load_users_or_empty(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return {};
  }
  return domains::UserDb::load(file);
}

int user_add(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"password-stdin", "force"}, {"password"});
  args.expect(1, "USER@DOMAIN");
  domains::Address address = parse_user_address(args.positional()[0], "USER@DOMAIN");
  std::string name = domains::normalize_local(address.local);
  std::string canonical = name + "@" + address.domain;
  std::string password = get_password(args, canonical, true);

  fs::path dir = ctx.domains_dir() / address.domain;
  fs::path file = dir / "users";
  domains::UserDb db = load_users_or_empty(file);
  bool exists = db.contains(name);
  if (exists && !args.has("force")) {
    std::cerr << "hikyaku-util: user " << canonical
              << " exists; add --force to replace the password\n";
    return kExitFailure;
  }
  if (!fs::is_directory(dir)) {
    fs::create_directories(dir);
    match_parent_owner(dir);
    std::cout << "created " << dir.string() << ": " << address.domain << " is now a local domain\n";
  }
  db.set(name, password);
  db.save(file);
  match_parent_owner(file);
  std::cout << (exists ? "replaced password of " : "added ") << canonical << "\n";
  return kExitOk;
}

int user_remove(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(1, "USER@DOMAIN");
  domains::Address address = parse_user_address(args.positional()[0], "USER@DOMAIN");
  std::string canonical = domains::normalize_local(address.local) + "@" + address.domain;
  fs::path file = ctx.domains_dir() / address.domain / "users";
  domains::UserDb db = load_users_or_empty(file);
  if (!db.remove(address.local)) {
    std::cerr << "hikyaku-util: no user " << canonical << "\n";
    return kExitFailure;
  }
  db.save(file);
  match_parent_owner(file);
  std::cout << "removed " << canonical << "\n";
  return kExitOk;
}

int user_list(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(1, "DOMAIN");
  std::string domain = parse_domain(args.positional()[0]);
  fs::path dir = ctx.domains_dir() / domain;
  if (!fs::is_directory(dir)) {
    std::cerr << "hikyaku-util: " << domain << " is not a local domain (no " << dir.string()
              << ")\n";
    return kExitFailure;
  }
  for (const std::string& user : load_users_or_empty(dir / "users").users()) {
    std::cout << user << "@" << domain << "\n";
  }
  return kExitOk;
}

int authenticate(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"password-stdin"}, {"password"});
  args.expect(1, "USER@DOMAIN");
  const std::string& username = args.positional()[0];
  std::string password = get_password(args, username, false);
  auto snapshot = domains::Domains::load(ctx.domains_dir());
  if (auto user = snapshot->authenticate(username, password)) {
    std::cout << "ok " << *user << "\n";
    return kExitOk;
  }
  std::cout << "failed " << username << "\n";
  return kExitFailure;
}

// Checks one optional file with `check`; prints one line; false when it is broken.
template <class Check>
bool check_file(const fs::path& file, std::string_view what, Check check) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    std::cout << file.string() << ": absent (" << what << ")\n";
    return true;
  }
  try {
    std::cout << check(file) << "\n";
    return true;
  } catch (const DomainsError& e) {
    std::cout << e.what() << "\n";
    return false;
  }
}

int check_userdb(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(1, "DOMAIN");
  std::string domain = parse_domain(args.positional()[0]);
  fs::path dir = ctx.domains_dir() / domain;
  if (!fs::is_directory(dir)) {
    std::cout << dir.string() << ": missing, " << domain << " is not a local domain\n";
    return kExitFailure;
  }
  bool ok = check_file(dir / "users", "no users", [](const fs::path& f) {
    std::string text;
    if (std::error_code ec = base::read_file(f, text)) {
      throw DomainsError(f.string() + ": " + ec.message());
    }
    auto db = domains::UserDb::parse(text, f.string());
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      throw DomainsError(f.string() + ": " + std::to_string(db.size()) +
                         " users, but readable by group or others (chmod 600 it)");
    }
    return f.string() + ": " + std::to_string(db.size()) + " users, ok";
  });
  ok &= check_file(dir / "aliases", "no aliases", [](const fs::path& f) {
    return f.string() + ": " + std::to_string(domains::AliasTable::load(f).entries().size()) +
           " aliases, ok";
  });
  ok &= check_file(dir / "domain.toml", "default sender policy", [](const fs::path& f) {
    domains::SenderPolicy::load(f);
    return f.string() + ": ok";
  });
  return ok ? kExitOk : kExitFailure;
}

constexpr Command kCommands[] = {
    {"user-add", "USER@DOMAIN [--password=P | --password-stdin] [--force]",
     "Add a user (creates domains/DOMAIN/ if needed: the domain becomes local). Without a\n"
     "password option, asks twice on the terminal. Refuses an existing user unless --force,\n"
     "which replaces the password. The name is stored normalized (lower-case, no dots).",
     user_add},
    {"user-remove", "USER@DOMAIN", "Remove a user; exit 1 if there is no such user.", user_remove},
    {"user-list", "DOMAIN", "Print the users of DOMAIN, one USER@DOMAIN per line.", user_list},
    {"authenticate", "USER@DOMAIN [--password=P | --password-stdin]",
     "Check a password as AUTH does: prints \"ok USER@DOMAIN\" (exit 0) or\n"
     "\"failed USER@DOMAIN\" (exit 1).",
     authenticate},
    {"check-userdb", "DOMAIN",
     "Parse the users, aliases and domain.toml files of DOMAIN and check the users file\n"
     "mode; one line per file, exit 1 when any is broken.",
     check_userdb},
};

}  // namespace

std::span<const Command> users_commands() { return kCommands; }

}  // namespace hk::util
