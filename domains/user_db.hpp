// UserDb: one domain's users file, CONFIG_DIR/domains/<domain>/users.
//
// SECURITY: the file holds password hashes and must be mode 0600 (save() writes it so; load()
// warns when group or others can read it). It never holds a plaintext password: an entry whose
// second field is not a scrypt hash is an error.
//
// Format, one entry per line:
//   # hikyaku users file ...            comment (first non-blank character '#'); blank lines ok
//   alice scrypt$14$8$1$<salt>$<key>    user name, spaces or tabs, password hash (password.hpp)
// User names follow is_valid_user_name() and are stored normalized (local_part.hpp: lower-case,
// no '+suffix', no dots), so "John.Smith" is written back as "johnsmith"; two lines naming the
// same normalized user are an error. save() rewrites the whole file, sorted by name, with a
// header comment; other comments are not kept. Errors read "file:line: message".
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domains/password.hpp"

namespace hk::domains {

class UserDb {
 public:
  UserDb() = default;

  // Throws DomainsError "file:line: message" on a malformed line, "file: reason" when unreadable.
  static UserDb load(const std::filesystem::path& file);
  // As load(), from text; `file_name` only prefixes error messages.
  static UserDb parse(std::string_view text, std::string_view file_name);

  // Lookups normalize `user` first (local_part.hpp).
  bool contains(std::string_view user) const;
  // Runs scrypt (tens of milliseconds): call it off the I/O thread. For an unknown user it still
  // runs one scrypt so that the time taken does not reveal whether the user exists.
  bool check_password(std::string_view user, std::string_view password) const;

  // Adds or replaces `user` with a fresh hash of `password`. Throws DomainsError when the name is
  // not a valid user name (local_part.hpp).
  void set(std::string_view user, std::string_view password);
  void set(std::string_view user, std::string_view password, const ScryptParams& params);
  // Adds or replaces `user` with an existing `encoded` hash (password.hpp), as a migration from
  // another server brings them. Throws DomainsError for an invalid name or a malformed hash.
  void set_hash(std::string_view user, std::string_view encoded);
  // The stored hash of `user`, or nullptr.
  const std::string* hash_of(std::string_view user) const;
  // False when there was no such user.
  bool remove(std::string_view user);

  // Atomic replace (hk::base::write_file_atomic) with mode 0600. Throws DomainsError.
  void save(const std::filesystem::path& file) const;
  // The file's text as save() writes it.
  std::string serialize() const;

  // Normalized names, sorted.
  std::vector<std::string> users() const;
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> entries_;  // normalized name -> hash
};

}  // namespace hk::domains
