// Parsing, lookup and saving of a users file.
#include "domains/user_db.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "domains/domains_error.hpp"
#include "domains/local_part.hpp"
#include "domains/text_lines.hpp"
#include "lib/base/files.hpp"
#include "lib/base/log.hpp"

namespace hk::domains {
namespace {

constexpr std::string_view kHeader =
    "# hikyaku users file: one \"name scrypt$logN$r$p$salt$key\" per line, passwords never in\n"
    "# plaintext. Names are stored normalized (lower-case, no dots, no +suffix). Keep mode 0600;\n"
    "# manage it with: hikyaku-util user-add / user-remove / check-userdb.\n";

}  // namespace

UserDb UserDb::parse(std::string_view text, std::string_view file_name) {
  UserDb db;
  std::map<std::string, int, std::less<>> first_line;
  for_each_line(text, [&](int line_no, std::string_view line) {
    auto fail = [&](const std::string& msg) {
      throw DomainsError(std::string(file_name) + ":" + std::to_string(line_no) + ": " + msg);
    };
    std::vector<std::string_view> fields = split_fields(line);
    if (fields.size() != 2) {
      fail("expected \"name scrypt$...\", found " + std::to_string(fields.size()) + " field" +
           (fields.size() == 1 ? "" : "s"));
    }
    if (!is_valid_user_name(fields[0])) {
      fail("invalid user name \"" + std::string(fields[0]) + "\"");
    }
    std::string name = normalize_local(fields[0]);
    // Never echo the second field: it might be a password someone typed in by hand.
    if (!fields[1].starts_with("scrypt$")) {
      fail("password of \"" + name +
           "\" is not a scrypt hash (plaintext is refused; use hikyaku-util user-add)");
    }
    if (!is_valid_password_hash(fields[1])) {
      fail("malformed scrypt hash for \"" + name + "\" (expected scrypt$logN$r$p$salt$key)");
    }
    auto [it, inserted] = first_line.emplace(name, line_no);
    if (!inserted) {
      fail("duplicate user \"" + name + "\" (first on line " + std::to_string(it->second) + ")");
    }
    db.entries_.emplace(std::move(name), std::string(fields[1]));
  });
  return db;
}

UserDb UserDb::load(const std::filesystem::path& file) {
  std::string text;
  if (std::error_code ec = base::read_file(file, text)) {
    throw DomainsError(file.string() + ": " + ec.message());
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    base::log_warn() << "event=users_file_mode file=" << base::log_quote(file.string()) << " mode=0"
                     << std::oct << (st.st_mode & 0777)
                     << " msg=\"readable by group or others; should be 0600\"";
  }
  return parse(text, file.string());
}

bool UserDb::contains(std::string_view user) const {
  return entries_.find(normalize_local(user)) != entries_.end();
}

bool UserDb::check_password(std::string_view user, std::string_view password) const {
  auto it = entries_.find(normalize_local(user));
  if (it == entries_.end()) {
    spend_dummy_password_check(password);
    return false;
  }
  return verify_password(it->second, password);
}

void UserDb::set(std::string_view user, std::string_view password) {
  set(user, password, ScryptParams{});
}

void UserDb::set(std::string_view user, std::string_view password, const ScryptParams& params) {
  if (!is_valid_user_name(user)) {
    throw DomainsError("invalid user name \"" + std::string(user) + "\"");
  }
  entries_[normalize_local(user)] = hash_password(password, params);
}

void UserDb::set_hash(std::string_view user, std::string_view encoded) {
  if (!is_valid_user_name(user)) {
    throw DomainsError("invalid user name \"" + std::string(user) + "\"");
  }
  if (!is_valid_password_hash(encoded)) {
    throw DomainsError("malformed scrypt hash for \"" + std::string(user) + "\"");
  }
  entries_[normalize_local(user)] = std::string(encoded);
}

const std::string* UserDb::hash_of(std::string_view user) const {
  auto it = entries_.find(normalize_local(user));
  return it == entries_.end() ? nullptr : &it->second;
}

bool UserDb::remove(std::string_view user) {
  auto it = entries_.find(normalize_local(user));
  if (it == entries_.end()) {
    return false;
  }
  entries_.erase(it);
  return true;
}

std::string UserDb::serialize() const {
  std::string out(kHeader);
  for (const auto& [name, hash] : entries_) {
    out += name + ' ' + hash + '\n';
  }
  return out;
}

void UserDb::save(const std::filesystem::path& file) const {
  if (std::error_code ec = base::write_file_atomic(file, serialize(), 0600)) {
    throw DomainsError(file.string() + ": " + ec.message());
  }
}

std::vector<std::string> UserDb::users() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) {
    out.push_back(entry.first);
  }
  return out;
}

}  // namespace hk::domains
