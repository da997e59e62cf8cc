// Ownership of written files.
#include "util/ownership.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

namespace hk::util {

void match_parent_owner(const std::filesystem::path& path) {
  if (::geteuid() != 0) {
    return;
  }
  struct stat parent {};
  struct stat self {};
  if (::stat(path.parent_path().c_str(), &parent) != 0 || ::lstat(path.c_str(), &self) != 0) {
    return;
  }
  if (self.st_uid == parent.st_uid && self.st_gid == parent.st_gid) {
    return;
  }
  if (::lchown(path.c_str(), parent.st_uid, parent.st_gid) != 0) {
    std::cerr << "hikyaku-util: warning: cannot give " << path.string()
              << " to the owner of its folder; the daemon may not be able to read it\n";
  }
}

}  // namespace hk::util
