// Reload from files: a Fingerprint (what stat(2) says of a set of files) and Reloadable<T>, which
// keeps one value in service and replaces it only with one that loaded whole.
//
// Certificates, local domains and DKIM keys all follow this shape: poll the fingerprint from a
// timer; when it differs from the last attempt's, load; on success swap the new value in, on
// failure keep the old one in service and report the error once (not at every poll).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace hk::base {

// What stat(2) says of one file. Content is not read: polling stays cheap, and an editor, an ACME
// client or `hikyaku-util` always changes the size, mtime, ctime or inode when it writes.
struct FileStamp {
  int error = 0;  // errno of stat(2) (ENOENT: missing); 0 when the file is there
  unsigned long long dev = 0, ino = 0, size = 0, mode = 0;
  long long mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// The state of a set of files, compared as a whole. Paths are kept sorted, so the order in which
// a caller adds them (directory listing order) does not matter.
class Fingerprint {
 public:
  // Records stat(2) of `path`, following symlinks (a swapped certbot link is a change). A missing
  // or unreadable file is recorded with its errno, so its appearance is a change too. Device and
  // inode catch an atomic replacement by rename of the same size within one mtime tick; ctime
  // catches a copy that preserves mtime (cp -p, rsync -t).
  void add_file(const std::filesystem::path& path);
  // Records only that `path` exists: for a folder whose own times change with every temporary
  // file an editor makes in it, where only the folder's coming and going matters.
  void add_name(const std::filesystem::path& path);

  bool empty() const { return files_.empty(); }
  bool operator==(const Fingerprint&) const = default;

 private:
  std::map<std::string, FileStamp> files_;
};

// The outcome of one reload attempt.
struct ReloadResult {
  bool changed = false;  // a new value is in service
  std::string error;     // non-empty: the files changed but did not load; the old value stays
};

// One value built from files, kept in service across reloads. T may be const. Thread-safe:
// current() from any thread; reloads are serialised among themselves. An owner that hands it
// functions capturing `this` must itself be neither copyable nor movable.
template <class T>
class Reloadable {
 public:
  using Ptr = std::shared_ptr<T>;
  // Stamps the files the value is built from (stat only; called at every poll).
  using FingerprintFn = std::function<Fingerprint()>;
  // Builds a value from the files or throws std::exception naming what is broken. `previous` is
  // the value in service (null before the first load); returning it means nothing new to serve.
  using LoadFn = std::function<Ptr(const Ptr& previous)>;

  Reloadable(FingerprintFn fingerprint, LoadFn load)
      : fingerprint_(std::move(fingerprint)), load_(std::move(load)) {}
  Reloadable(const Reloadable&) = delete;
  Reloadable& operator=(const Reloadable&) = delete;

  // Loads whatever the files hold and lets the loader's exception out: at startup a broken file
  // stops the daemon rather than serving nothing.
  void load() {
    std::lock_guard reload_lock(reload_mutex_);
    seen_ = fingerprint_();
    Ptr fresh = load_(current());
    std::lock_guard lock(value_mutex_);
    value_ = std::move(fresh);
  }

  // The value in service; it stays valid while the caller holds it, whatever reloads do.
  Ptr current() const {
    std::lock_guard lock(value_mutex_);
    return value_;
  }

  // Loads again only when the fingerprint differs from the last attempt's, so a broken state is
  // reported once and retried only when the files change again. Cheap otherwise (a few stat(2)).
  ReloadResult reload_if_changed() {
    std::lock_guard reload_lock(reload_mutex_);
    Fingerprint now = fingerprint_();
    if (now == seen_) {
      return {};
    }
    return attempt_locked(std::move(now));
  }

  // Loads again whatever the fingerprint says (SIGHUP).
  ReloadResult reload() {
    std::lock_guard reload_lock(reload_mutex_);
    return attempt_locked(fingerprint_());
  }

 private:
  ReloadResult attempt_locked(Fingerprint now) {
    // Taken before loading, so that a change made while loading is seen at the next poll.
    seen_ = std::move(now);
    Ptr previous = current();
    Ptr fresh;
    try {
      fresh = load_(previous);
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
    if (fresh == previous) {
      return {};
    }
    std::lock_guard lock(value_mutex_);
    value_ = std::move(fresh);
    return {true, {}};
  }

  const FingerprintFn fingerprint_;
  const LoadFn load_;
  std::mutex reload_mutex_;  // one load at a time; guards seen_
  Fingerprint seen_;         // the files at the last attempt, loaded or found broken
  mutable std::mutex value_mutex_;
  Ptr value_;  // guarded by value_mutex_
};

}  // namespace hk::base
