// Domains: an immutable snapshot of every local domain (CONFIG_DIR/domains/<domain>/) with its
// users, aliases and sender policy; answers "is this domain local", "who gets mail for this
// address", "may this user log in" and "may this user send as that address".
//
// SECURITY: authenticate() runs scrypt and spends the same work on unknown users and domains, so
// that its timing does not reveal who exists. A snapshot is never changed after load(), so one
// shared_ptr<const Domains> may be read by any number of threads at once.
//
// Layout: a folder domains/<domain>/ makes <domain> local, whatever it holds. Inside it:
//   users        UserDb (user_db.hpp), optional; mode 0600
//   aliases      AliasTable (aliases.hpp), optional
//   domain.toml  SenderPolicy (sender_policy.hpp), optional
//   dkim/        DKIM keys, not read here
// Folder names are lower-cased; names starting with '.' and entries that are not folders are
// skipped; a folder whose name is not a valid domain name is skipped with a warning. A missing
// domains/ folder means no local domain.
//
// Include this header for the whole hk_domains API.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domains/aliases.hpp"
#include "domains/domains_error.hpp"
#include "domains/local_part.hpp"
#include "domains/password.hpp"
#include "domains/sender_policy.hpp"
#include "domains/user_db.hpp"

namespace hk::domains {

// Limits on alias expansion, so that a bad aliases file cannot loop or fan out without end.
constexpr size_t kMaxAliasDepth = 10;         // nested alias hops on one path
constexpr size_t kMaxAliasExpansions = 1000;  // addresses visited for one resolve()

struct Resolution {
  enum class Kind { LocalUser, Remote };
  struct Target {
    Kind kind;
    std::string address;  // LocalUser: "user@domain", normalized; Remote: as the alias wrote it
    bool operator==(const Target&) const = default;
  };
  std::vector<Target> targets;  // in first-seen order, no duplicates; empty => unknown address
  std::string error;  // non-empty (and targets empty) when a loop or a limit was hit; says which
};

class Domains {
 public:
  // Reads every domain folder. Throws DomainsError "file:line: message" on the first bad file.
  static std::shared_ptr<const Domains> load(const std::filesystem::path& domains_dir);

  // `domain` is a lower-case A-label.
  bool is_local(std::string_view domain) const;

  // Who receives mail for local@domain. For a non-local domain: one Remote target, the address
  // itself. For a local one, the local part is normalized (local_part.hpp) and looked up:
  //   1. an alias of that name: each target is followed in turn;
  //   2. else a user of that name: the user (final);
  //   3. else the catch-all "*" of the domain, if any: followed like an alias;
  //   4. else nothing (unknown: RCPT gets 550).
  // Following a target: at a non-local domain it is a Remote target (final); at a local domain a
  // user of that name is final (so "alice: alice, alice@elsewhere.example" keeps a copy), else
  // its alias, else the catch-all of that domain, else the target is dropped. Loops and more than
  // kMaxAliasDepth nested aliases or kMaxAliasExpansions visited addresses set `error`.
  Resolution resolve(std::string_view local, std::string_view domain) const;

  // AUTH (RFC 4954): `username` is "user@domain", or a bare "user" when exactly one domain is
  // local. Returns the canonical "user@domain" (normalized) when the password matches. Slow (one
  // scrypt whatever the outcome): call it off the I/O thread.
  std::optional<std::string> authenticate(std::string_view username,
                                          std::string_view password) const;

  // The canonical "user@domain" that `username` names for AUTH (as above, normalized), when its
  // domain is local and the name is not empty; whether the user exists is not looked at. Cheap.
  std::optional<std::string> login_name(std::string_view username) const;

  // May authenticated `user` ("user@domain", as authenticate() returned it) use
  // sender_local@sender_domain as envelope or From: sender? Always allowed: the user's own
  // address in any spelling that normalizes to it ("Alice+x@…"), and every address of a local
  // domain whose aliases resolve to the user (the catch-all does not count). domain.toml of the
  // user's domain may add: send_as = "domain" (any address of that domain), "any" (any address),
  // and per-user extra addresses, compared after normalizing their local parts.
  bool may_send_as(std::string_view user, std::string_view sender_local,
                   std::string_view sender_domain) const;

  // Sorted.
  std::vector<std::string> domain_names() const;

  // One domain's parts, or nullptr when not local (for hikyaku-util and tests).
  const UserDb* users(std::string_view domain) const;
  const AliasTable* aliases(std::string_view domain) const;
  const SenderPolicy* sender_policy(std::string_view domain) const;

 private:
  struct Domain {
    UserDb users;
    AliasTable aliases;
    SenderPolicy policy;
  };
  class Expander;

  Domains() = default;
  const Domain* find(std::string_view domain) const;
  // login_name()'s parts: the normalized user name and the local domain.
  std::optional<std::pair<std::string, std::string>> split_login(std::string_view username) const;
  Resolution resolve_impl(std::string_view local, std::string_view domain,
                          bool use_catch_all) const;

  std::map<std::string, Domain, std::less<>> domains_;
};

}  // namespace hk::domains
