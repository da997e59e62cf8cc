// The check that a secret file (a TLS or DKIM private key, a user database) is not open to other
// users of the machine.
// SECURITY: a key or password hash readable by every local account is as good as published, and
// one writable by them lets any account swap in its own; the daemon refuses both, at start and at
// reload, rather than serve with them.
#pragma once

#include <filesystem>
#include <string>

namespace hk::base {

// Empty when `file` is neither readable nor writable by "other" (group access is the operator's
// choice, e.g. an ACME deploy hook's group); otherwise what is wrong and the fix, e.g.
// "/etc/hikyaku/certs/mx/privkey.pem is readable by other users (mode 0644); run: chmod 600
// /etc/hikyaku/certs/mx/privkey.pem". A path that does not exist or is not a regular file is the
// loader's concern: empty. Symbolic links are followed: the mode that counts is the target's.
std::string private_file_problem(const std::filesystem::path& file);

}  // namespace hk::base
