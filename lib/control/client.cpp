// The blocking control-socket client: plain POSIX sockets with send/receive timeouts.
#include "lib/control/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/control/protocol.hpp"

namespace hk::control {

namespace fs = std::filesystem;

namespace {

using base::errno_code;

// Longest reply line the client accepts; ours are far shorter.

// errno after a send/recv on a socket with SO_SNDTIMEO/SO_RCVTIMEO: EAGAIN (= EWOULDBLOCK on
// Linux) means the timeout passed.
std::error_code io_error() {
  return errno == EAGAIN ? std::make_error_code(std::errc::timed_out) : errno_code();
}

}  // namespace

ControlReply control_request(const fs::path& socket_path, const std::string& request,
                             std::chrono::seconds timeout) {
  ControlReply out;
  sockaddr_un addr{};
  if (!make_address(socket_path, addr)) {
    out.error = std::make_error_code(std::errc::filename_too_long);
    out.text = "control socket path " + socket_path.string() + " is too long";
    return out;
  }
  base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    out.error = errno_code();
    out.text = "socket: " + out.error.message();
    return out;
  }
  // Linux applies SO_SNDTIMEO to a UNIX-socket connect too (a full backlog), SO_RCVTIMEO to recv.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    out.error = errno_code();
    out.text = "cannot connect to " + socket_path.string() + ": " + out.error.message();
    return out;
  }

  std::string line = request;
  if (line.empty() || line.back() != '\n') {
    line += '\n';
  }
  for (size_t done = 0; done < line.size();) {
    // MSG_NOSIGNAL: a daemon that hangs up early must not kill hikyaku-util with SIGPIPE.
    ssize_t n = ::send(fd.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out.error = io_error();
      out.text = "cannot send the request: " + out.error.message();
      return out;
    }
    done += static_cast<size_t>(n);
  }

  std::string reply;
  char buf[512];
  while (reply.find('\n') == std::string::npos && reply.size() < kMaxReply) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out.error = io_error();
      out.text = "no reply from hikyaku: " + out.error.message();
      return out;
    }
    if (n == 0) {
      break;
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  size_t nl = reply.find('\n');
  if (nl == std::string::npos) {
    out.error = std::make_error_code(std::errc::connection_aborted);
    out.text = reply.empty() ? "hikyaku closed the connection without a reply"
                             : "hikyaku sent an incomplete reply";
    return out;
  }
  reply.resize(nl);
  if (reply == "ok" || reply.starts_with("ok ")) {
    out.ok = true;
    out.text = reply.size() > 3 ? reply.substr(3) : "";
  } else if (reply.starts_with("error ")) {
    out.text = reply.substr(6);
  } else {
    out.text = reply;
  }
  return out;
}

}  // namespace hk::control
