// DomainsWatcher: keeps the Domains snapshot in force and replaces it when the files under
// domains/ change, so that users, aliases and policies are reloaded without a restart.
//
// A change is any difference in the set of domain folders or in the inode, size, mode or mtime of
// a users, aliases or domain.toml file (present or absent). A broken file keeps the old snapshot
// in service; the same broken state is reported once, not at every poll.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domains/domains.hpp"

namespace hk::domains {

struct ReloadResult {
  bool reloaded = false;  // a new snapshot is in force
  std::string error;      // non-empty: the files changed but did not load; the old one stays
};

class DomainsWatcher {
 public:
  // Loads the first snapshot; throws DomainsError when it does not load.
  explicit DomainsWatcher(std::filesystem::path domains_dir);
  DomainsWatcher(const DomainsWatcher&) = delete;
  DomainsWatcher& operator=(const DomainsWatcher&) = delete;

  // The snapshot in force. Thread-safe; the snapshot stays valid while the caller holds it.
  std::shared_ptr<const Domains> current() const;

  // Cheap when nothing changed (a few stat(2) calls): call it from a timer. Thread-safe.
  ReloadResult reload_if_changed();
  // Reloads whatever the files look like (SIGHUP).
  ReloadResult reload();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct FileState {
    std::string path;
    bool exists = false;
    unsigned long long dev = 0, ino = 0, size = 0, mode = 0;
    long long mtime_ns = 0;
    bool operator==(const FileState&) const = default;
  };
  using Fingerprint = std::vector<FileState>;

  Fingerprint fingerprint() const;
  ReloadResult load(bool force);

  const std::filesystem::path dir_;
  std::mutex reload_mutex_;           // one reload at a time
  mutable std::mutex current_mutex_;  // guards current_
  std::shared_ptr<const Domains> current_;
  Fingerprint seen_;  // the state last loaded or last found broken; under reload_mutex_
};

}  // namespace hk::domains
