// The drop from root to run_as.
#include "daemon/server/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace hk::server {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

void give(const fs::path& p, const RunAs& user) {
  // lchown: a symbolic link planted under data_dir must not hand over what it points to.
  if (::lchown(p.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("run_as = \"" + user.name + "\": cannot hand " + p.string() +
                             " over: " + errno_text());
  }
}

}  // namespace

RunAs lookup_user(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) {
    throw std::runtime_error("run_as = \"" + name + "\": no such user" +
                             (rc != 0 ? std::string(" (") + std::strerror(rc) + ")" : ""));
  }
  return RunAs{name, pw.pw_uid, pw.pw_gid};
}

void hand_over(const fs::path& data_dir, const RunAs& user) {
  give(data_dir, user);
  for (const char* name : {"queue", "mail", "mta-sts", "control.sock", "srs.key"}) {
    fs::path top = data_dir / name;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(top, ec))) {
      continue;
    }
    give(top, user);
    if (!fs::is_directory(fs::symlink_status(top, ec))) {
      continue;
    }
    for (fs::recursive_directory_iterator it(top, ec), end; !ec && it != end; it.increment(ec)) {
      give(it->path(), user);
    }
    if (ec) {
      throw std::runtime_error("run_as = \"" + user.name + "\": cannot walk " + top.string() +
                               ": " + ec.message());
    }
  }
}

void drop_to(const RunAs& user) {
  // Groups first: once the uid is gone, the right to change them is gone too.
  if (::initgroups(user.name.c_str(), user.gid) != 0) {
    throw std::runtime_error("run_as: initgroups(" + user.name + "): " + errno_text());
  }
  if (::setgid(user.gid) != 0) {
    throw std::runtime_error("run_as: setgid(" + std::to_string(user.gid) + "): " + errno_text());
  }
  // setuid() as root sets the real, effective and saved ids: there is no way back.
  if (::setuid(user.uid) != 0) {
    throw std::runtime_error("run_as: setuid(" + std::to_string(user.uid) + "): " + errno_text());
  }
  if (user.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    throw std::runtime_error("run_as: root could be regained after the drop");
  }
  if (user.gid != 0 && (::setgid(0) == 0 || ::setegid(0) == 0)) {
    throw std::runtime_error("run_as: group 0 could be regained after the drop");
  }
  if (::getuid() != user.uid || ::geteuid() != user.uid || ::getgid() != user.gid ||
      ::getegid() != user.gid) {
    throw std::runtime_error("run_as: the ids after the drop are not " + user.name + "'s");
  }
}

}  // namespace hk::server
