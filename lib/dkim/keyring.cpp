// DKIM keys of all local domains, with reload.
#include "lib/dkim/keyring.hpp"

#include <stdexcept>
#include <utility>

#include "lib/base/private_file.hpp"

namespace hk::dkim {

namespace fs = std::filesystem;

DkimKeyring::DkimKeyring(fs::path domains_dir)
    : dir_(std::move(domains_dir)),
      keys_([this] { return fingerprint(); },
            [this](const std::shared_ptr<const Keys>&) { return load(); }) {
  keys_.load();
}

base::Fingerprint DkimKeyring::fingerprint() const {
  base::Fingerprint out;
  std::error_code ec;
  for (fs::directory_iterator d(dir_, ec), end; !ec && d != end; d.increment(ec)) {
    fs::path keydir = d->path() / "dkim";
    std::error_code ec2;
    for (fs::directory_iterator k(keydir, ec2), kend; !ec2 && k != kend; k.increment(ec2)) {
      if (k->path().extension() == ".pem") {
        out.add_file(k->path());
      }
    }
  }
  return out;
}

std::shared_ptr<const Keys> DkimKeyring::load() const {
  auto keys = std::make_shared<Keys>();
  std::error_code ec;
  for (fs::directory_iterator d(dir_, ec), end; !ec && d != end; d.increment(ec)) {
    if (!fs::is_directory(d->path() / "dkim")) {  // throws when it cannot tell
      continue;
    }
    std::string domain = d->path().filename().string();
    // SECURITY: a signing key other users can read is refused (at reload the old keys stay).
    std::error_code kec;
    for (fs::directory_iterator k(d->path() / "dkim", kec), kend; !kec && k != kend;
         k.increment(kec)) {
      if (k->path().extension() == ".pem") {
        if (std::string problem = base::private_file_problem(k->path()); !problem.empty()) {
          throw std::runtime_error(problem);
        }
      }
    }
    std::vector<DkimKey> list = load_domain_keys(dir_, domain);  // throws naming the file
    if (!list.empty()) {
      (*keys)[domain] = std::move(list);
    }
  }
  return keys;
}

}  // namespace hk::dkim
