// Change detection and reload of the domains folder.
#include "domains/watcher.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

namespace hk::domains {
namespace fs = std::filesystem;

namespace {

constexpr const char* kWatchedFiles[] = {"users", "aliases", "domain.toml"};

}  // namespace

DomainsWatcher::DomainsWatcher(fs::path domains_dir) : dir_(std::move(domains_dir)) {
  seen_ = fingerprint();
  current_ = Domains::load(dir_);
}

std::shared_ptr<const Domains> DomainsWatcher::current() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

DomainsWatcher::Fingerprint DomainsWatcher::fingerprint() const {
  Fingerprint out;
  auto add = [&](const fs::path& p) {
    FileState state;
    state.path = p.string();
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      state.exists = true;
      state.dev = st.st_dev;
      state.ino = st.st_ino;
      state.size = static_cast<unsigned long long>(st.st_size);
      state.mode = st.st_mode;
      state.mtime_ns =
          static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    }
    out.push_back(std::move(state));
  };
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    add(dir_);  // missing or unreadable: its appearance is a change
    return out;
  }
  for (const fs::directory_entry& entry : it) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(".") || !entry.is_directory(ec)) {
      continue;
    }
    FileState folder;
    folder.path = entry.path().string();
    folder.exists = true;
    out.push_back(std::move(folder));
    for (const char* file : kWatchedFiles) {
      add(entry.path() / file);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const FileState& a, const FileState& b) { return a.path < b.path; });
  return out;
}

ReloadResult DomainsWatcher::load(bool force) {
  std::lock_guard lock(reload_mutex_);
  // Taken before reading, so that a change made while loading is seen at the next poll.
  Fingerprint now = fingerprint();
  if (!force && now == seen_) {
    return {};
  }
  seen_ = std::move(now);
  ReloadResult result;
  try {
    std::shared_ptr<const Domains> fresh = Domains::load(dir_);
    std::lock_guard current_lock(current_mutex_);
    current_ = std::move(fresh);
    result.reloaded = true;
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

ReloadResult DomainsWatcher::reload_if_changed() { return load(false); }

ReloadResult DomainsWatcher::reload() { return load(true); }

}  // namespace hk::domains
