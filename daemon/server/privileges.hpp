// Privileges: running as the configured user (run_as) once the ports are bound.
// SECURITY: started as root, the daemon binds its listeners, hands what it owns under data_dir to
// the user, then drops root for good (supplementary groups, gid, uid, in that order) and checks
// that root cannot be regained, all before it serves anyone (OpenSMTPD's privilege drop at birth).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace hk::server {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user `name` from the password database; throws std::runtime_error when there is none.
RunAs lookup_user(const std::string& name);

// Gives `user` the daemon's places under data_dir (the folder itself, queue/, mail/, mta-sts/ and
// the control socket, each recursively), so that it can go on writing there after the drop.
// Throws std::runtime_error naming the path that could not be changed.
void hand_over(const std::filesystem::path& data_dir, const RunAs& user);

// initgroups, setgid, setuid; then checks that neither uid 0 nor gid 0 can be taken back. Throws
// std::runtime_error when a step fails or root is still within reach.
void drop_to(const RunAs& user);

}  // namespace hk::server
