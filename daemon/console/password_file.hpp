// PasswordFile: the operator's password for remote console access — the scrypt hash that
// `hikyaku-util console-password` writes ([console] password_file), re-read when the file
// changes, and a short memory of successful checks so that a browser, which sends the password
// with every request, does not cost one scrypt per request.
//
// SECURITY: only the hash is read; the password is never stored or logged. The cache follows
// domains/auth_cache.hpp (whose reasoning applies here unchanged; it is tied to the users
// database, so the console keeps its own): it holds only HMAC-SHA256 tags of passwords that
// scrypt has just accepted, under a random per-process key, bounded in number and age; a wrong
// password always misses and pays the full scrypt; the cache is emptied whenever the file
// changes, so a new password takes effect at the next request.
#pragma once

#include <sys/stat.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hk::console {

class PasswordFile {
 public:
  PasswordFile();  // draws the cache's key; throws std::runtime_error without randomness
  ~PasswordFile();
  PasswordFile(const PasswordFile&) = delete;
  PasswordFile& operator=(const PasswordFile&) = delete;

  // `path` empty: no password, no remote access. Any change empties the cache.
  void configure(std::filesystem::path path, std::chrono::seconds cache_ttl, size_t cache_size);

  // The hash in service, or nullptr when none is configured or the file is missing, unreadable
  // or malformed (logged once per change of the file). Re-reads the file when its stat changed.
  const std::string* hash();

  // True when `password` was verified against the current hash less than cache_ttl ago.
  bool cached(std::string_view password);
  // Records a successful check of `password` against the current hash.
  void remember(std::string_view password);

 private:
  using Tag = std::array<unsigned char, 32>;
  struct Entry {
    Tag tag;
    std::chrono::steady_clock::time_point expires;
  };
  void reload(const struct stat& st);
  Tag tag_of(std::string_view password) const;
  void clear();

  std::filesystem::path path_;
  std::chrono::seconds ttl_{0};
  size_t size_ = 0;
  bool seen_ = false;  // the stat below is valid
  struct stat stat_ {};
  std::string hash_;  // empty: none in service
  std::array<unsigned char, 32> key_{};
  std::vector<Entry> cache_;  // oldest first
};

// One scrypt check (domains/password.hpp), for the worker pool.
bool verify_password_ok(const std::string& hash, const std::string& password);

}  // namespace hk::console
