// DkimKeyring: every local domain's DKIM keys (domains/<domain>/dkim/*.pem), loaded at start and
// reloaded when a key file appears, changes or goes away; a broken key keeps the old set.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lib/dkim/keys.hpp"

namespace hk::dkim {

using Keys = std::map<std::string, std::vector<DkimKey>>;  // domain -> keys, sorted by selector

class DkimKeyring {
 public:
  explicit DkimKeyring(std::filesystem::path domains_dir);  // throws on a broken key file
  struct ReloadResult {
    bool changed = false;
    std::string error;
  };
  ReloadResult reload_if_changed();
  std::shared_ptr<const Keys> current() const;

 private:
  std::string fingerprint() const;  // names, sizes and mtimes of every key file
  std::shared_ptr<const Keys> load() const;

  std::filesystem::path dir_;
  mutable std::mutex mu_;
  std::shared_ptr<const Keys> keys_;
  std::string fingerprint_;
  std::string failed_fingerprint_;  // a broken state is reported once
};

}  // namespace hk::dkim
