// The conversion behind `hikyaku-util import-chasquid`: reads a chasquid configuration folder and
// plans what to write into a hikyaku configuration folder, with one report line per item
// (converted, already there, conflict, skipped because hikyaku has no equivalent, or left for
// the operator to do). Planning writes nothing; apply_import() performs a plan. So --dry-run and
// the real run print the same report, and a bad input file stops everything before the first
// write.
//
// What maps to what (docs/migrating-from-chasquid.md has the full table):
//   domains/D/users        (chasquid's userdb, scrypt)  -> domains/D/users, the same hashes
//   domains/D/aliases      (addresses, '*', pipes)      -> domains/D/aliases, merged
//   domains/D/dkim:S.pem                                -> domains/D/dkim/S.pem (0600, 0700 dir)
//   certs/N/{fullchain,privkey}.pem                     -> certs/N/, symlinks kept as symlinks
//   chasquid.conf: hostname, listen addresses, size, give_up_send_after -> hikyaku.toml when
//   there is none yet, else printed as lines to add.
// SECURITY: users files and private keys are written 0600 and owned like their folder
// (util/ownership.hpp); plain-text passwords found in chasquid's database are hashed with scrypt
// and never printed.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hk::util {

// A file that cannot be read or parsed; what() names the file (and line). Nothing was written.
struct ImportError : std::runtime_error {
  using runtime_error::runtime_error;
};

enum class Outcome {
  Converted,  // will be (or was) written to hikyaku's folder
  Unchanged,  // hikyaku already has exactly this
  Conflict,   // hikyaku has something different: kept, unless --overwrite
  Skipped,    // hikyaku has no equivalent (or the item is unusable); `detail` says what to do
  Todo,       // needs the operator (a setting to copy by hand, a value only they know)
};

struct ImportItem {
  Outcome outcome;
  std::string subject;  // "user alice@example.com", "alias *@example.com", "chasquid.conf hostname"
  std::string detail;
};

struct PlannedDir {
  std::filesystem::path path;
  bool private_dir = false;  // 0700 (dkim/), else the umask's default
};

struct PlannedWrite {
  std::filesystem::path path;
  std::string data;                              // the content, unless `link_to`
  std::optional<std::filesystem::path> link_to;  // a symbolic link to make instead
  mode_t mode = 0644;
  bool replaces = false;  // an existing file or link is replaced (--overwrite)
};

struct ImportPlan {
  std::vector<ImportItem> items;
  std::vector<PlannedDir> dirs;  // parents before children
  std::vector<PlannedWrite> writes;
};

struct ImportOptions {
  std::filesystem::path source;      // chasquid's folder, e.g. /etc/chasquid
  std::filesystem::path config_dir;  // hikyaku's, e.g. /etc/hikyaku
  bool overwrite = false;            // replace conflicting users, aliases, keys and cert files
};

// Reads everything and plans the writes. Throws ImportError on a missing source folder or any
// unreadable or malformed file.
ImportPlan plan_import(const ImportOptions& options);

// Creates the planned folders and writes the files (each atomically), giving each the owner of
// its folder. Throws ImportError naming the file on the first failure; the files written before
// it are listed in `written`.
void apply_import(const ImportPlan& plan, std::vector<std::filesystem::path>& written);

}  // namespace hk::util
