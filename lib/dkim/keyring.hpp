// DkimKeyring: every local domain's DKIM keys (domains/<domain>/dkim/*.pem), loaded at start and
// reloaded when a key file appears, changes or goes away; a broken key keeps the old set.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/reload.hpp"
#include "lib/dkim/keys.hpp"

namespace hk::dkim {

using Keys = std::map<std::string, std::vector<DkimKey>>;  // domain -> keys, sorted by selector

class DkimKeyring {
 public:
  explicit DkimKeyring(std::filesystem::path domains_dir);  // throws on a broken key file
  DkimKeyring(const DkimKeyring&) = delete;
  DkimKeyring& operator=(const DkimKeyring&) = delete;

  // Cheap when no key file changed (stat(2) of each); a broken state is reported once.
  base::ReloadResult reload_if_changed() { return keys_.reload_if_changed(); }
  // The keys in service. Thread-safe; the set stays valid while the caller holds it.
  std::shared_ptr<const Keys> current() const { return keys_.current(); }

 private:
  base::Fingerprint fingerprint() const;  // every domain's dkim/*.pem
  std::shared_ptr<const Keys> load() const;

  const std::filesystem::path dir_;
  base::Reloadable<const Keys> keys_;
};

}  // namespace hk::dkim
