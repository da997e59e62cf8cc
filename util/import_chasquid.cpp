// Planning an import from chasquid: the domains (users, aliases, DKIM keys) and certificates.
// chasquid.conf is import_chasquid_config.cpp; applying a plan is at the end of this file.
#include "util/import_chasquid.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "domains/domains.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/base64.hpp"
#include "lib/base/files.hpp"
#include "lib/dkim/keys.hpp"
#include "util/chasquid_format.hpp"
#include "util/import_chasquid_config.hpp"
#include "util/ownership.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

std::string read_or_throw(const fs::path& file) {
  std::string text;
  if (std::error_code ec = base::read_file(file, text)) {
    throw ImportError(file.string() + ": " + ec.message());
  }
  return text;
}

// Sorted names in `dir` (not starting with '.'), so that the report is stable.
std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with(".")) {
      names.push_back(std::move(name));
    }
  }
  if (ec) {
    throw ImportError(dir.string() + ": " + ec.message());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool exists_no_follow(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

class Planner {
 public:
  Planner(const ImportOptions& options, ImportPlan& plan) : opt_(options), plan_(plan) {}

  void run();

 private:
  void item(Outcome o, std::string subject, std::string detail) {
    plan_.items.push_back(ImportItem{o, std::move(subject), std::move(detail)});
  }
  // Plans `dir` (and its missing parents under config_dir) for creation, once.
  void need_dir(const fs::path& dir, bool private_dir = false);
  enum class Write { Planned, Same, Kept };
  // Plans writing `data` to `path` unless it already holds it (reported as unchanged); a file
  // with other content is a conflict, kept unless overwriting.
  Write write_file(const std::string& subject, const fs::path& path, std::string data, mode_t mode);

  void domain(const std::string& name);
  void users(const std::string& domain, const fs::path& src, const fs::path& dst);
  void aliases(const std::string& domain, const fs::path& src, const fs::path& dst);
  void dkim_key(const std::string& domain, const std::string& file_name, const fs::path& src);
  void cert(const std::string& name);
  enum class Have { Absent, Same, Different };
  Have compare_cert_file(const fs::path& src, const fs::path& dst);

  const ImportOptions& opt_;
  ImportPlan& plan_;
  ChasquidSettings settings_;
  std::set<fs::path> dirs_;
  std::set<std::string> domains_seen_;  // lower-cased
};

void Planner::need_dir(const fs::path& dir, bool private_dir) {
  if (dirs_.count(dir) != 0 || fs::is_directory(dir)) {
    return;
  }
  if (dir != opt_.config_dir && dir.has_parent_path()) {
    need_dir(dir.parent_path());
  }
  dirs_.insert(dir);
  plan_.dirs.push_back(PlannedDir{dir, private_dir});
}

Planner::Write Planner::write_file(const std::string& subject, const fs::path& path,
                                   std::string data, mode_t mode) {
  bool replaces = false;
  if (exists_no_follow(path)) {
    std::string old;
    if (!base::read_file(path, old) && old == data) {
      item(Outcome::Unchanged, subject, path.string() + " already holds the same");
      return Write::Same;
    }
    if (!opt_.overwrite) {
      item(Outcome::Conflict, subject,
           path.string() + " exists with other content; kept (add --overwrite to replace it)");
      return Write::Kept;
    }
    replaces = true;
  }
  need_dir(path.parent_path());
  plan_.writes.push_back(PlannedWrite{path, std::move(data), std::nullopt, mode, replaces});
  return Write::Planned;
}

void Planner::run() {
  const fs::path& src = opt_.source;
  std::error_code ec;
  if (!fs::is_directory(src, ec)) {
    throw ImportError(src.string() + ": " +
                      (fs::exists(src, ec) ? "not a folder" : "no such folder"));
  }
  fs::path conf = src / "chasquid.conf";
  bool has_conf = fs::exists(conf, ec);
  if (!has_conf && !fs::is_directory(src / "domains", ec)) {
    throw ImportError(src.string() +
                      ": not a chasquid configuration folder (no chasquid.conf, no domains/)");
  }
  need_dir(opt_.config_dir);
  // chasquid.conf first: its drop characters and suffix separators shape the aliases.
  if (has_conf) {
    settings_ = plan_config(read_or_throw(conf), conf, opt_.config_dir, plan_);
  } else {
    item(Outcome::Skipped, "chasquid.conf", "absent; chasquid's defaults assumed");
  }
  for (const std::string& name : list_dir(src)) {
    if (name == "chasquid.conf" || name == "domains" || name == "certs" || name == "README") {
      continue;
    }
    if (name == "hooks") {
      item(Outcome::Skipped, "hooks/",
           "no equivalent: hikyaku runs no hooks (chasquid's post-data hook ran spam and virus "
           "checks; hikyaku checks SPF, DKIM and DMARC itself, see docs/dmarc.md; run other "
           "filters in the mailbox server)");
      continue;
    }
    item(Outcome::Skipped, name, "not a part of chasquid's configuration that is understood");
  }
  if (fs::is_directory(src / "domains", ec)) {
    for (const std::string& name : list_dir(src / "domains")) {
      domain(name);
    }
  }
  if (fs::is_directory(src / "certs", ec)) {
    for (const std::string& name : list_dir(src / "certs")) {
      cert(name);
    }
  }
}

void Planner::domain(const std::string& raw) {
  fs::path src = opt_.source / "domains" / raw;
  if (!fs::is_directory(src)) {
    item(Outcome::Skipped, "domains/" + raw, "not a folder");
    return;
  }
  std::string name = base::to_lower(raw);
  if (!domains::is_valid_domain_name(name)) {
    item(Outcome::Skipped, "domain " + raw,
         "not a valid domain name for hikyaku (an internationalized name must be written as its "
         "A-label, xn--...): rename the folder and import again");
    return;
  }
  if (!domains_seen_.insert(name).second) {
    item(Outcome::Skipped, "domains/" + raw,
         "the same domain as another folder (names are case-insensitive); rename or merge it");
    return;
  }
  fs::path dst = opt_.config_dir / "domains" / name;
  if (fs::is_directory(dst)) {
    item(Outcome::Unchanged, "domain " + name, "already local in hikyaku");
  } else {
    need_dir(dst);
    item(Outcome::Converted, "domain " + name, "becomes local (" + dst.string() + ")");
  }
  for (const std::string& file : list_dir(src)) {
    if (file == "users") {
      users(name, src / file, dst / "users");
    } else if (file == "aliases") {
      aliases(name, src / file, dst / "aliases");
    } else if (file.starts_with("dkim:") && file.ends_with(".pem")) {
      dkim_key(name, file, src / file);
    } else {
      item(Outcome::Skipped, "domains/" + raw + "/" + file, "not understood; not imported");
    }
  }
}

// chasquid's Scrypt message as hikyaku's encoded hash; nullopt when it does not fit.
std::optional<std::string> to_hikyaku_hash(const chasquid::Scrypt& s, std::string& why) {
  if (s.key_len != static_cast<int64_t>(s.encrypted.size())) {
    why = "keyLen " + std::to_string(s.key_len) + " differs from the " +
          std::to_string(s.encrypted.size()) + "-byte key: chasquid could not verify it either";
    return std::nullopt;
  }
  std::string hash = "scrypt$" + std::to_string(s.log_n) + "$" + std::to_string(s.r) + "$" +
                     std::to_string(s.p) + "$" + base::base64_encode(s.salt) + "$" +
                     base::base64_encode(s.encrypted);
  if (!domains::is_valid_password_hash(hash)) {
    why = "scrypt parameters outside hikyaku's accepted range (logN " + std::to_string(s.log_n) +
          ", r " + std::to_string(s.r) + ", p " + std::to_string(s.p) + ", salt " +
          std::to_string(s.salt.size()) + " bytes, key " + std::to_string(s.encrypted.size()) +
          " bytes; accepted: logN 1-20, r 1-32, p 1-16, salt 8-64, key 16-64): set a new "
          "password with hikyaku-util user-add --force";
    return std::nullopt;
  }
  return hash;
}

void Planner::users(const std::string& domain, const fs::path& src, const fs::path& dst) {
  std::vector<chasquid::User> list;
  try {
    list = chasquid::parse_users(read_or_throw(src), src.string());
  } catch (const chasquid::FormatError& e) {
    throw ImportError(e.what());
  }
  domains::UserDb db;
  bool had_file = fs::exists(dst);
  if (had_file) {
    try {
      db = domains::UserDb::load(dst);
    } catch (const domains::DomainsError& e) {
      throw ImportError(std::string(e.what()) + " (hikyaku's own file; fix it first)");
    }
  }
  // Protobuf maps keep the last entry of a key, as chasquid did.
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < list.size(); ++i) {
    last[list[i].name] = i;
  }
  std::map<std::string, std::string> imported;  // normalized -> chasquid's name
  bool changed = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const chasquid::User& u = list[i];
    std::string subject = "user " + u.name + "@" + domain;
    std::string where = src.string() + ":" + std::to_string(u.line);
    if (last[u.name] != i) {
      item(Outcome::Skipped, subject,
           where + ": given again on line " + std::to_string(list[last[u.name]].line) +
               ", which counts (as in chasquid)");
      continue;
    }
    if (!domains::is_valid_user_name(u.name)) {
      item(Outcome::Skipped, subject,
           where + ": not a valid hikyaku user name (RFC 5322 atext without '+', '#' and '*')");
      continue;
    }
    std::string norm = domains::normalize_local(u.name);
    std::string hash;
    std::string how;
    switch (u.scheme) {
      case chasquid::Scheme::Scrypt: {
        std::string why;
        auto converted = to_hikyaku_hash(u.scrypt, why);
        if (!converted) {
          item(Outcome::Skipped, subject, where + ": " + why);
          continue;
        }
        hash = *converted;
        how = "scrypt N=2^" + std::to_string(u.scrypt.log_n) + " r=" + std::to_string(u.scrypt.r) +
              " p=" + std::to_string(u.scrypt.p) + ", hash kept: the password keeps working";
        break;
      }
      case chasquid::Scheme::Plain:
        if (u.plain.empty()) {
          item(Outcome::Skipped, subject, where + ": empty plain-text password");
          continue;
        }
        hash = domains::hash_password(u.plain);
        how = "chasquid held the password in plain text; hashed with scrypt now, it keeps working";
        break;
      case chasquid::Scheme::Denied:
        item(Outcome::Skipped, subject,
             where +
                 ": chasquid refuses this user's logins (scheme \"denied\"); hikyaku has no "
                 "such state. If the address must still receive mail, add an alias for it");
        continue;
      case chasquid::Scheme::None:
        item(Outcome::Skipped, subject, where + ": no password in chasquid's database");
        continue;
    }
    if (norm != base::to_lower(u.name)) {
      how += "; stored as \"" + norm + "\" (hikyaku ignores dots and +suffixes in names)";
    }
    if (auto [it, fresh] = imported.emplace(norm, u.name); !fresh) {
      item(Outcome::Skipped, subject,
           where + ": the same hikyaku user as \"" + it->second +
               "\" (names are compared without dots); that one was imported");
      continue;
    }
    subject = "user " + norm + "@" + domain;
    if (const std::string* old = db.hash_of(norm)) {
      if (*old == hash) {
        item(Outcome::Unchanged, subject, "already in " + dst.string() + " with this password");
        continue;
      }
      if (!opt_.overwrite) {
        item(Outcome::Conflict, subject,
             "already in " + dst.string() +
                 " with another password; kept hikyaku's (add --overwrite to take chasquid's)");
        continue;
      }
      how += "; replaces hikyaku's password (--overwrite)";
    }
    db.set_hash(norm, hash);
    changed = true;
    item(Outcome::Converted, subject, how);
  }
  if (changed) {
    need_dir(dst.parent_path());
    plan_.writes.push_back(PlannedWrite{dst, db.serialize(), std::nullopt, 0600, had_file});
  }
}

// A chasquid alias target as a hikyaku one; nullopt plus `why` when hikyaku has no equivalent.
std::optional<domains::AliasTarget> convert_target(const std::string& t, std::string& why) {
  if (t.find(" via ") != std::string::npos) {
    why = "\"" + t +
          "\" is a via alias (delivery through given servers): no equivalent per alias; route the "
          "target's domain through a [[relay]] with domains = [...] in hikyaku.toml";
    return std::nullopt;
  }
  if (t == "*" || t.starts_with("*@")) {
    why = "\"" + t +
          "\" copies the recipient's user part (chasquid's experimental '*' target): no "
          "equivalent; list the addresses, or point the catch-all at one mailbox";
    return std::nullopt;
  }
  auto target = domains::parse_alias_target(t);
  if (!target) {
    why = "target \"" + t + "\" is not an address hikyaku accepts";
    return std::nullopt;
  }
  return target;
}

void Planner::aliases(const std::string& domain, const fs::path& src, const fs::path& dst) {
  std::vector<chasquid::Alias> list;
  try {
    list = chasquid::parse_aliases(read_or_throw(src), src.string());
  } catch (const chasquid::FormatError& e) {
    throw ImportError(e.what());
  }
  std::string text;
  domains::AliasTable table;
  bool had_file = fs::exists(dst);
  if (had_file) {
    text = read_or_throw(dst);
    try {
      table = domains::AliasTable::parse(text, dst.string());
    } catch (const domains::DomainsError& e) {
      throw ImportError(std::string(e.what()) + " (hikyaku's own file; fix it first)");
    }
  }
  // The hikyaku name of each chasquid alias; the last line of a name counts, as in chasquid.
  std::vector<std::string> names(list.size());
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string& raw = list[i].name;
    if (raw == "*") {
      names[i] = "*";
    } else {
      std::string cleaned;
      for (char c : raw) {
        if (settings_.drop_characters.find(c) == std::string::npos) {
          cleaned += c;
        }
      }
      names[i] = base::to_lower(cleaned);
    }
    last[names[i]] = i;
  }
  std::vector<std::string> lines;       // entries to append
  std::map<int, std::string> replaced;  // hikyaku line -> its replacement (--overwrite)
  for (size_t i = 0; i < list.size(); ++i) {
    const chasquid::Alias& a = list[i];
    std::string name = names[i];
    std::string subject = "alias " + a.name + "@" + domain;
    std::string where = src.string() + ":" + std::to_string(a.line);
    if (last[name] != i) {
      item(Outcome::Skipped, subject,
           where + ": overridden by line " + std::to_string(list[last[name]].line) +
               " (the last line of a name counts, as in chasquid)");
      continue;
    }
    if (a.kind == chasquid::AliasKind::Pipe) {
      item(Outcome::Skipped, subject,
           where + ": pipe alias \"| " + a.command +
               "\" has no equivalent: hikyaku runs no commands on mail; deliver to a mailbox "
               "and process it from there (the mailbox server's sieve or a Maildir watcher)");
      continue;
    }
    if (name != "*" && name.find_first_of(settings_.suffix_separators) != std::string::npos) {
      item(Outcome::Skipped, subject,
           where +
               ": an alias for a suffixed address has no equivalent: hikyaku drops the +suffix "
               "before looking up, so this mail reaches the alias or user without it");
      continue;
    }
    if (name != "*" && !domains::is_valid_user_name(name)) {
      item(Outcome::Skipped, subject, where + ": not a valid hikyaku alias name");
      continue;
    }
    if (name != "*") {
      name = domains::normalize_local(name);
    }
    std::vector<domains::AliasTarget> targets;
    std::string why;
    for (const std::string& t : a.targets) {
      auto target = convert_target(t, why);
      if (!target) {
        break;
      }
      targets.push_back(std::move(*target));
    }
    if (targets.size() != a.targets.size()) {
      item(Outcome::Skipped, subject, where + ": " + why);
      continue;
    }
    std::string line = domains::format_alias_line(name, targets);
    subject = "alias " + name + "@" + domain;
    std::string detail = "-> " + line.substr(line.find(':') + 2);
    const domains::AliasEntry* old = name == "*" ? table.catch_all() : table.find(name);
    if (old != nullptr) {
      if (old->targets == targets) {
        item(Outcome::Unchanged, subject, "already in " + dst.string() + " with these targets");
        continue;
      }
      if (!opt_.overwrite) {
        item(Outcome::Conflict, subject,
             dst.string() + ":" + std::to_string(old->line) +
                 " sends it elsewhere; kept hikyaku's (add --overwrite to take chasquid's: " +
                 detail + ")");
        continue;
      }
      replaced[old->line] = line;
      item(Outcome::Converted, subject, detail + " (replaces hikyaku's line, kept as a comment)");
      continue;
    }
    if (name == "*") {
      detail += " (catch-all: mail for unknown users of " + domain + ")";
    }
    item(Outcome::Converted, subject, detail);
    lines.push_back(line);
  }
  if (lines.empty() && replaced.empty()) {
    return;
  }
  // Keep hikyaku's file as it is, line by line; a replaced entry stays as a comment.
  std::string out;
  if (!had_file) {
    out =
        "# hikyaku aliases of " + domain + ": \"name: target, target\", \"*\" is the catch-all.\n";
  }
  int line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view one = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (auto it = replaced.find(line_no); it != replaced.end()) {
      out += "# replaced by import-chasquid: " + std::string(one) + "\n" + it->second + "\n";
    } else {
      out += std::string(one) + "\n";
    }
  }
  if (!lines.empty()) {
    out += "# imported from " + src.string() + " by hikyaku-util import-chasquid\n";
    for (const std::string& l : lines) {
      out += l + "\n";
    }
  }
  try {
    domains::AliasTable::parse(out, dst.string());
  } catch (const domains::DomainsError& e) {
    throw ImportError(std::string("internal error, the merged aliases do not parse: ") + e.what());
  }
  // As aliases-add: a replaced file keeps its mode.
  mode_t mode = 0644;
  struct stat st {};
  if (had_file && ::stat(dst.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  }
  need_dir(dst.parent_path());
  plan_.writes.push_back(PlannedWrite{dst, std::move(out), std::nullopt, mode, had_file});
}

void Planner::dkim_key(const std::string& domain, const std::string& file_name,
                       const fs::path& src) {
  std::string selector = file_name.substr(5, file_name.size() - 5 - 4);
  std::string subject = "DKIM key " + selector + "._domainkey." + domain;
  // A selector is a sub-domain (RFC 6376 §3.1): the domain-name check, case aside.
  if (!domains::is_valid_domain_name(base::to_lower(selector))) {
    item(Outcome::Skipped, subject,
         src.string() + ": the selector is not a valid DNS name; not imported");
    return;
  }
  std::string pem = read_or_throw(src);
  try {
    dkim::parse_key(pem, domain, selector, src.string());
  } catch (const std::runtime_error& e) {
    item(Outcome::Skipped, subject,
         std::string(e.what()) + "; not imported (hikyaku signs with RSA or Ed25519 keys)");
    return;
  }
  fs::path dst = opt_.config_dir / "domains" / domain / "dkim" / (selector + ".pem");
  need_dir(dst.parent_path().parent_path());
  need_dir(dst.parent_path(), true);
  if (write_file(subject, dst, pem, 0600) == Write::Planned) {
    item(Outcome::Converted, subject,
         "-> " + dst.string() + "; the published DNS record stays valid (hikyaku-util dkim-dns " +
             domain + " prints it)");
  }
}

// A symlink's target as an absolute path, so that the copy points at the same file.
fs::path absolute_link(const fs::path& link) {
  fs::path target = fs::read_symlink(link);
  if (target.is_relative()) {
    target = fs::absolute(link.parent_path() / target);
  }
  return target.lexically_normal();
}

// How hikyaku's copy of a certificate file compares with chasquid's: a link with a link to the
// same place, a file with the content.
Planner::Have Planner::compare_cert_file(const fs::path& src, const fs::path& dst) {
  if (!exists_no_follow(dst)) {
    return Have::Absent;
  }
  if (fs::is_symlink(src)) {
    return fs::is_symlink(dst) && absolute_link(dst) == absolute_link(src) ? Have::Same
                                                                           : Have::Different;
  }
  std::string mine;
  return !fs::is_symlink(dst) && !base::read_file(dst, mine) && mine == read_or_throw(src)
             ? Have::Same
             : Have::Different;
}

void Planner::cert(const std::string& name) {
  fs::path src = opt_.source / "certs" / name;
  std::string subject = "certificate " + name;
  fs::path dst = opt_.config_dir / "certs" / name;
  if (!fs::is_directory(src)) {
    item(Outcome::Skipped, "certs/" + name, "not a folder; not imported");
    return;
  }
  if (fs::is_symlink(src)) {
    // The usual chasquid set-up: certs/NAME -> /etc/letsencrypt/live/NAME. Keep the link.
    fs::path target = absolute_link(src);
    if (exists_no_follow(dst)) {
      if (fs::is_symlink(dst) && absolute_link(dst) == target) {
        item(Outcome::Unchanged, subject, dst.string() + " already links to " + target.string());
      } else {
        item(Outcome::Conflict, subject,
             dst.string() + " exists; kept (move it away to take chasquid's link to " +
                 target.string() + ")");
      }
      return;
    }
    need_dir(dst.parent_path());
    plan_.writes.push_back(PlannedWrite{dst, "", target, 0755, false});
    item(Outcome::Converted, subject,
         "-> " + dst.string() + ", a link to " + target.string() +
             " as in chasquid: renewals reach hikyaku too (its user must be able to read it)");
    return;
  }
  // The certificate and its key go together: both are taken, or neither.
  struct File {
    const char* name;
    mode_t mode;
    Have have = Have::Absent;
  };
  File files[] = {{"fullchain.pem", 0644}, {"privkey.pem", 0600}};
  for (File& f : files) {
    fs::path from = src / f.name;
    if (!fs::exists(from)) {
      item(Outcome::Skipped, subject, from.string() + " missing; not imported");
      return;
    }
    if (!fs::is_symlink(from) && read_or_throw(from).find("-----BEGIN ") == std::string::npos) {
      item(Outcome::Skipped, subject, from.string() + ": not a PEM file; not imported");
      return;
    }
    f.have = compare_cert_file(from, dst / f.name);
  }
  bool different = files[0].have == Have::Different || files[1].have == Have::Different;
  if (files[0].have == Have::Same && files[1].have == Have::Same) {
    item(Outcome::Unchanged, subject, dst.string() + " already holds the same files");
    return;
  }
  if (different && !opt_.overwrite) {
    item(Outcome::Conflict, subject,
         dst.string() +
             " holds another certificate or key; kept hikyaku's pair (add --overwrite to take "
             "chasquid's)");
    return;
  }
  std::string how;
  for (const File& f : files) {
    if (f.have == Have::Same) {
      continue;
    }
    fs::path from = src / f.name;
    fs::path to = dst / f.name;
    need_dir(dst);
    bool replaces = f.have == Have::Different;
    if (fs::is_symlink(from)) {
      fs::path target = absolute_link(from);
      plan_.writes.push_back(PlannedWrite{to, "", target, f.mode, replaces});
      how += std::string(how.empty() ? "" : "; ") + f.name + " links to " + target.string();
    } else {
      plan_.writes.push_back(PlannedWrite{to, read_or_throw(from), std::nullopt, f.mode, replaces});
      how += std::string(how.empty() ? "" : "; ") + f.name + " copied";
    }
  }
  item(Outcome::Converted, subject,
       "-> " + dst.string() + " (" + how +
           (different ? ", replacing hikyaku's (--overwrite)" : "") +
           "); renewals must now reach this folder: see the ACME hooks in deploy/acme/");
}

}  // namespace

ImportPlan plan_import(const ImportOptions& options) {
  ImportPlan plan;
  Planner(options, plan).run();
  return plan;
}

void apply_import(const ImportPlan& plan, std::vector<fs::path>& written) {
  for (const PlannedDir& d : plan.dirs) {
    std::error_code ec;
    if (fs::is_directory(d.path, ec)) {
      continue;
    }
    if (!fs::create_directory(d.path, ec) && ec) {
      throw ImportError(d.path.string() + ": " + ec.message());
    }
    if (d.private_dir) {
      fs::permissions(d.path, fs::perms::owner_all, fs::perm_options::replace, ec);
    }
    match_parent_owner(d.path);
    written.push_back(d.path);
  }
  for (const PlannedWrite& w : plan.writes) {
    std::error_code ec;
    if (w.link_to) {
      // A link cannot be replaced atomically with create_symlink: make it beside, then rename.
      fs::path tmp = w.path;
      tmp += ".import-tmp";
      fs::remove(tmp, ec);
      fs::create_symlink(*w.link_to, tmp, ec);
      if (!ec) {
        fs::rename(tmp, w.path, ec);
      }
      if (!ec) {
        ec = base::fsync_dir(w.path.parent_path());
      }
    } else {
      ec = base::write_file_atomic(w.path, w.data, w.mode);
    }
    if (ec) {
      throw ImportError(w.path.string() + ": " + ec.message());
    }
    match_parent_owner(w.path);
    written.push_back(w.path);
  }
}

}  // namespace hk::util
