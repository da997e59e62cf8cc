// A domains/ folder with several local domains, users, aliases and policies, shared by the
// resolution, authentication and sender tests.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "domains/domains.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::domains::test {

// The tests' TempDir, except that a "users" file it writes gets mode 0600, as UserDb wants of
// it (it warns otherwise).
class TempDir : public hk::test::TempDir {
 public:
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view text) const {
    std::filesystem::path p = hk::test::TempDir::write(relative, text);
    if (p.filename() == "users") {
      std::filesystem::permissions(
          p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    return p;
  }
};

// A users file whose every user has the password "<name>-pw" (cheap scrypt parameters).
inline std::string users_file(const std::vector<std::string>& names) {
  UserDb db;
  for (const std::string& n : names) {
    db.set(n, n + "-pw", ScryptParams{4, 8, 1});
  }
  return db.serialize();
}

// Renders a resolution as "local a@b" / "remote c@d" lines, or "error: ..." on error.
inline std::vector<std::string> describe(const Resolution& r) {
  if (!r.error.empty()) {
    return {"error: " + r.error};
  }
  std::vector<std::string> out;
  for (const auto& t : r.targets) {
    out.push_back((t.kind == Resolution::Kind::LocalUser ? "local " : "remote ") + t.address);
  }
  return out;
}

}  // namespace hk::domains::test
