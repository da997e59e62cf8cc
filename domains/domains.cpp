// Loading of the domains folder, alias resolution, authentication and the sender check.
#include "domains/domains.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "lib/base/ascii.hpp"
#include "lib/base/log.hpp"
#include "lib/base/private_file.hpp"

namespace hk::domains {
namespace fs = std::filesystem;

namespace {

// Loads `file` with `load` when it exists; a missing file leaves `out` empty.
template <class T>
void load_optional(const fs::path& file, T& out) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (ec) {
      throw DomainsError(file.string() + ": " + ec.message());
    }
    return;
  }
  out = T::load(file);
}

}  // namespace

// Depth-first expansion of one address. `path_` holds the aliases being expanded, so that meeting
// one of them again is a loop; reaching the same address along two branches is not.
class Domains::Expander {
 public:
  Expander(const Domains& domains, bool use_catch_all)
      : domains_(domains), use_catch_all_(use_catch_all) {}

  // False once an error is recorded.
  bool expand(std::string_view local, std::string_view domain, bool top) {
    if (++visited_ > kMaxAliasExpansions) {
      return fail("alias expansion exceeds " + std::to_string(kMaxAliasExpansions) + " addresses");
    }
    const Domain* d = domains_.find(domain);
    if (d == nullptr) {
      add(Resolution::Kind::Remote, std::string(local) + "@" + std::string(domain));
      return true;
    }
    std::string name = normalize_local(local);
    if (name.empty()) {
      return true;  // "+x" or ".": names no one, not even the catch-all
    }
    std::string key = name + "@" + std::string(domain);
    // A nested target that is a user is final; at the top an alias of the same name wins, so that
    // an alias can send a user's mail elsewhere too.
    if (!top && d->users.contains(name)) {
      add(Resolution::Kind::LocalUser, std::move(key));
      return true;
    }
    const AliasEntry* entry = d->aliases.find(name);
    if (entry == nullptr && top && d->users.contains(name)) {
      add(Resolution::Kind::LocalUser, std::move(key));
      return true;
    }
    if (entry == nullptr && (use_catch_all_ || !top)) {
      entry = d->aliases.catch_all();
    }
    if (entry == nullptr) {
      return true;  // unknown here: contributes no recipient
    }
    if (std::find(path_.begin(), path_.end(), key) != path_.end()) {
      std::string chain;
      for (const std::string& p : path_) {
        chain += p + " -> ";
      }
      return fail("alias loop: " + chain + key);
    }
    if (path_.size() >= kMaxAliasDepth) {
      return fail("alias chain deeper than " + std::to_string(kMaxAliasDepth) + " at " + key);
    }
    path_.push_back(key);
    for (const AliasTarget& t : entry->targets) {
      if (!expand(t.local, t.domain.empty() ? domain : std::string_view(t.domain), false)) {
        return false;
      }
    }
    path_.pop_back();
    return true;
  }

  Resolution take() {
    if (!result_.error.empty()) {
      result_.targets.clear();
    }
    return std::move(result_);
  }

 private:
  void add(Resolution::Kind kind, std::string address) {
    Resolution::Target target{kind, std::move(address)};
    if (std::find(result_.targets.begin(), result_.targets.end(), target) ==
        result_.targets.end()) {
      result_.targets.push_back(std::move(target));
    }
  }

  bool fail(std::string error) {
    result_.error = std::move(error);
    return false;
  }

  const Domains& domains_;
  bool use_catch_all_;
  size_t visited_ = 0;
  std::vector<std::string> path_;
  Resolution result_;
};

std::shared_ptr<const Domains> Domains::load(const fs::path& domains_dir) {
  std::shared_ptr<Domains> out(new Domains());
  std::error_code ec;
  if (!fs::exists(domains_dir, ec)) {
    if (ec) {
      throw DomainsError(domains_dir.string() + ": " + ec.message());
    }
    return out;
  }
  fs::directory_iterator it(domains_dir, ec);
  if (ec) {
    throw DomainsError(domains_dir.string() + ": " + ec.message());
  }
  for (const fs::directory_entry& entry : it) {
    std::string raw = entry.path().filename().string();
    if (raw.starts_with(".") || !entry.is_directory(ec)) {
      continue;
    }
    std::string name = base::to_lower(raw);
    if (!is_valid_domain_name(name)) {
      base::log_warn() << "event=domain_skipped dir=" << base::log_quote(entry.path().string())
                       << " msg=\"not a valid domain name\"";
      continue;
    }
    if (out->domains_.count(name) != 0) {
      throw DomainsError(entry.path().string() + ": domain " + name + " given twice");
    }
    Domain d;
    // SECURITY: password hashes other users can read are refused (at reload the old ones stay).
    if (std::string problem = base::private_file_problem(entry.path() / "users");
        !problem.empty()) {
      throw DomainsError(problem);
    }
    load_optional(entry.path() / "users", d.users);
    load_optional(entry.path() / "aliases", d.aliases);
    load_optional(entry.path() / "domain.toml", d.policy);
    out->domains_.emplace(std::move(name), std::move(d));
  }
  return out;
}

const Domains::Domain* Domains::find(std::string_view domain) const {
  auto it = domains_.find(domain);
  return it == domains_.end() ? nullptr : &it->second;
}

bool Domains::is_local(std::string_view domain) const { return find(domain) != nullptr; }

Resolution Domains::resolve_impl(std::string_view local, std::string_view domain,
                                 bool use_catch_all) const {
  Expander expander(*this, use_catch_all);
  expander.expand(local, domain, true);
  return expander.take();
}

Resolution Domains::resolve(std::string_view local, std::string_view domain) const {
  return resolve_impl(local, domain, true);
}

std::optional<std::pair<std::string, std::string>> Domains::split_login(
    std::string_view username) const {
  std::string local;
  std::string domain;
  if (auto address = split_address(username)) {
    local = std::move(address->local);
    domain = std::move(address->domain);
  } else if (username.find('@') == std::string_view::npos && domains_.size() == 1) {
    local = std::string(username);
    domain = domains_.begin()->first;
  }
  std::string name = normalize_local(local);
  if (find(domain) == nullptr || name.empty()) {
    return std::nullopt;
  }
  return std::pair{std::move(name), std::move(domain)};
}

std::optional<std::string> Domains::login_name(std::string_view username) const {
  auto login = split_login(username);
  if (!login) {
    return std::nullopt;
  }
  return login->first + "@" + login->second;
}

std::optional<std::string> Domains::authenticate(std::string_view username,
                                                 std::string_view password) const {
  auto login = split_login(username);
  if (!login) {
    spend_dummy_password_check(password);
    return std::nullopt;
  }
  if (!find(login->second)->users.check_password(login->first, password)) {
    return std::nullopt;
  }
  return login->first + "@" + login->second;
}

bool Domains::may_send_as(std::string_view user, std::string_view sender_local,
                          std::string_view sender_domain) const {
  auto address = split_address(user);
  if (!address) {
    return false;
  }
  std::string name = normalize_local(address->local);
  const Domain* d = find(address->domain);
  if (d == nullptr || !d->users.contains(name)) {
    return false;
  }
  std::string domain = base::to_lower(sender_domain);
  std::string local = normalize_local(sender_local);
  if (domain == address->domain && local == name) {
    return true;
  }
  if (d->policy.send_as == SendAs::Any) {
    return true;
  }
  if (d->policy.send_as == SendAs::Domain && domain == address->domain) {
    return true;
  }
  if (auto extra = d->policy.extra.find(name); extra != d->policy.extra.end()) {
    for (const std::string& allowed : extra->second) {
      if (allowed.starts_with("@")) {
        if (std::string_view(allowed).substr(1) == domain) {
          return true;
        }
        continue;
      }
      auto a = split_address(allowed);
      if (a && a->domain == domain && normalize_local(a->local) == local) {
        return true;
      }
    }
  }
  if (!is_local(domain) || local.empty()) {
    return false;
  }
  std::string canonical = name + "@" + address->domain;
  Resolution r = resolve_impl(sender_local, domain, false);
  return std::any_of(r.targets.begin(), r.targets.end(), [&](const Resolution::Target& t) {
    return t.kind == Resolution::Kind::LocalUser && t.address == canonical;
  });
}

std::vector<std::string> Domains::domain_names() const {
  std::vector<std::string> out;
  out.reserve(domains_.size());
  for (const auto& entry : domains_) {
    out.push_back(entry.first);
  }
  return out;
}

const UserDb* Domains::users(std::string_view domain) const {
  const Domain* d = find(domain);
  return d == nullptr ? nullptr : &d->users;
}

const AliasTable* Domains::aliases(std::string_view domain) const {
  const Domain* d = find(domain);
  return d == nullptr ? nullptr : &d->aliases;
}

const SenderPolicy* Domains::sender_policy(std::string_view domain) const {
  const Domain* d = find(domain);
  return d == nullptr ? nullptr : &d->policy;
}

}  // namespace hk::domains
