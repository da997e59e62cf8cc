// DomainsWatcher: keeps the Domains snapshot in force and replaces it when the files under
// domains/ change, so that users, aliases and policies are reloaded without a restart.
//
// A change is any difference in the set of domain folders or in the stat(2) of a users, aliases
// or domain.toml file (present or absent). A broken file keeps the old snapshot in service; the
// same broken state is reported once, not at every poll (base::Reloadable).
#pragma once

#include <filesystem>
#include <memory>

#include "domains/domains.hpp"
#include "lib/base/reload.hpp"

namespace hk::domains {

using ReloadResult = base::ReloadResult;

class DomainsWatcher {
 public:
  // Loads the first snapshot; throws DomainsError when it does not load.
  explicit DomainsWatcher(std::filesystem::path domains_dir);
  DomainsWatcher(const DomainsWatcher&) = delete;
  DomainsWatcher& operator=(const DomainsWatcher&) = delete;

  // The snapshot in force. Thread-safe; the snapshot stays valid while the caller holds it.
  std::shared_ptr<const Domains> current() const { return domains_.current(); }

  // Cheap when nothing changed (a few stat(2) calls): call it from a timer. Thread-safe.
  ReloadResult reload_if_changed() { return domains_.reload_if_changed(); }
  // Reloads whatever the files look like (SIGHUP).
  ReloadResult reload() { return domains_.reload(); }

  const std::filesystem::path& dir() const { return dir_; }

 private:
  base::Fingerprint fingerprint() const;

  const std::filesystem::path dir_;
  base::Reloadable<const Domains> domains_;
};

}  // namespace hk::domains
