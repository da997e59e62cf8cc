// DKIM keys of all local domains, with reload.
#include "lib/dkim/keyring.hpp"

#include <stdexcept>

namespace hk::dkim {

namespace fs = std::filesystem;

DkimKeyring::DkimKeyring(fs::path domains_dir) : dir_(std::move(domains_dir)) {
  fingerprint_ = fingerprint();
  keys_ = load();
}

std::string DkimKeyring::fingerprint() const {
  std::string out;
  std::error_code ec;
  for (fs::directory_iterator d(dir_, ec), end; !ec && d != end; d.increment(ec)) {
    fs::path keydir = d->path() / "dkim";
    std::error_code ec2;
    for (fs::directory_iterator k(keydir, ec2), kend; !ec2 && k != kend; k.increment(ec2)) {
      if (k->path().extension() != ".pem") {
        continue;
      }
      std::error_code ec3;
      auto size = fs::file_size(k->path(), ec3);
      auto mtime = fs::last_write_time(k->path(), ec3).time_since_epoch().count();
      out += k->path().string() + ":" + std::to_string(size) + ":" + std::to_string(mtime) + "\n";
    }
  }
  return out;
}

std::shared_ptr<const Keys> DkimKeyring::load() const {
  auto keys = std::make_shared<Keys>();
  std::error_code ec;
  for (fs::directory_iterator d(dir_, ec), end; !ec && d != end; d.increment(ec)) {
    if (!fs::is_directory(d->path() / "dkim")) {
      continue;
    }
    std::string domain = d->path().filename().string();
    std::vector<DkimKey> list = load_domain_keys(dir_, domain);  // throws naming the file
    if (!list.empty()) {
      (*keys)[domain] = std::move(list);
    }
  }
  return keys;
}

DkimKeyring::ReloadResult DkimKeyring::reload_if_changed() {
  std::string now = fingerprint();
  if (now == fingerprint_ || now == failed_fingerprint_) {
    return {};
  }
  try {
    auto keys = load();
    std::lock_guard lock(mu_);
    keys_ = std::move(keys);
    fingerprint_ = std::move(now);
    failed_fingerprint_.clear();
    return {true, ""};
  } catch (const std::exception& e) {
    failed_fingerprint_ = std::move(now);
    return {false, e.what()};
  }
}

std::shared_ptr<const Keys> DkimKeyring::current() const {
  std::lock_guard lock(mu_);
  return keys_;
}

}  // namespace hk::dkim
