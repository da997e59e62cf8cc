// The control-socket protocol spoken between the daemon and hikyaku-util, and the socket-address
// helpers both sides use.
//
// Line protocol, one request per connection:
//   "ping\n"      -> "ok hikyaku VERSION\n"
//   "flush\n"     -> retry every queued message now
//   "flush ID\n"  -> retry that message now ("error unknown id ID" when it is not queued)
//   "status\n"    -> "ok {JSON}": uptime, listeners, queue, the last hour's deliveries,
//                    certificates, reload errors (one line; docs/metrics.md, `hikyaku-util status`)
// Replies are "ok ...\n" or "error <reason>\n". A request longer than kMaxControlRequest bytes or
// not complete within kControlTimeout is answered with an error and not acted upon.
#pragma once

#include <sys/un.h>

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace hk::control {

inline constexpr size_t kMaxControlRequest = 1024;
// The longest reply line a client reads; the status reply bounds its lists to stay below it.
inline constexpr size_t kMaxReply = 64 * 1024;
inline constexpr std::chrono::seconds kControlTimeout{5};

// sockaddr_un for `path`; false when the path does not fit sun_path (108 bytes on Linux).
bool make_address(const std::filesystem::path& path, sockaddr_un& addr);

// A connected AF_UNIX stream socket, or -1 with errno set.
int connect_unix(const sockaddr_un& addr);

}  // namespace hk::control
