// Ownership of files hikyaku-util writes: they take the owner and group of the folder they are
// written in, so that when root edits /etc/hikyaku/domains (owned by the daemon's user), the
// daemon can still read its users and aliases files (mode 0600).
#pragma once

#include <filesystem>

namespace hk::util {

// When running as root, chown `path` to the owner and group of its parent folder. A no-op for
// other users (they cannot give files away) and when the owners already match.
void match_parent_owner(const std::filesystem::path& path);

}  // namespace hk::util
