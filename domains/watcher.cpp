// Change detection and reload of the domains folder.
#include "domains/watcher.hpp"

#include <utility>

namespace hk::domains {
namespace fs = std::filesystem;

namespace {

constexpr const char* kWatchedFiles[] = {"users", "aliases", "domain.toml"};

}  // namespace

DomainsWatcher::DomainsWatcher(fs::path domains_dir)
    : dir_(std::move(domains_dir)),
      domains_([this] { return fingerprint(); },
               [this](const std::shared_ptr<const Domains>&) { return Domains::load(dir_); }) {
  domains_.load();
}

base::Fingerprint DomainsWatcher::fingerprint() const {
  base::Fingerprint out;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  // Iterated with error codes: this runs on the reload timer, where an exception has no catcher.
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    std::error_code ignored;
    if (name.starts_with(".") || !entry.is_directory(ignored)) {
      continue;
    }
    // The folder's own times change with every editor temporary file in it: only its presence
    // counts, and the files that Domains::load reads.
    out.add_name(entry.path());
    for (const char* file : kWatchedFiles) {
      out.add_file(entry.path() / file);
    }
  }
  if (ec) {
    out.add_file(dir_);  // missing or unreadable: its appearance is a change
  }
  return out;
}

}  // namespace hk::domains
