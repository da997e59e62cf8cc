// The control socket server (one coroutine per connection) and its blocking POSIX client.
// SECURITY: see control.hpp; the socket is 0600, peers are checked by uid, requests are bounded.
#include "daemon/server/control.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <variant>

#include "daemon/base/files.hpp"
#include "daemon/base/log.hpp"
#include "daemon/queue/queue_file.hpp"

namespace hk::server {

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Socket = asio::local::stream_protocol::socket;
using namespace boost::asio::experimental::awaitable_operators;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Longest reply line the client accepts; ours are far shorter.
constexpr size_t kMaxReply = 4096;

std::error_code errno_code() { return {errno, std::generic_category()}; }

// errno after a send/recv on a socket with SO_SNDTIMEO/SO_RCVTIMEO: EAGAIN (= EWOULDBLOCK on
// Linux) means the timeout passed.
std::error_code io_error() {
  return errno == EAGAIN ? std::make_error_code(std::errc::timed_out) : errno_code();
}

// sockaddr_un for `path`; false when the path does not fit sun_path (108 bytes on Linux).
bool make_address(const fs::path& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  const std::string& p = path.native();
  if (p.empty() || p.size() >= sizeof addr.sun_path) {
    return false;
  }
  std::memcpy(addr.sun_path, p.data(), p.size());
  return true;
}

int connect_unix(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// A socket file at `path` that nobody answers on is left over from a daemon that died: remove
// it. Anything else there (a live daemon, a regular file) is an error for the administrator.
void remove_stale_socket(const fs::path& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return;
    }
    throw std::runtime_error("control socket " + path.string() + ": " + errno_code().message());
  }
  if (!S_ISSOCK(st.st_mode)) {
    throw std::runtime_error("control socket " + path.string() +
                             " exists and is not a socket; remove it");
  }
  int fd = connect_unix(addr);
  if (fd >= 0) {
    ::close(fd);
    throw std::runtime_error("another hikyaku is running with this data directory (it answers on " +
                             path.string() + ")");
  }
  if (errno != ECONNREFUSED) {
    throw std::runtime_error("control socket " + path.string() + ": " + errno_code().message());
  }
  base::log_info() << "control removing stale socket path=" << base::log_quote(path.string());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error("cannot remove stale control socket " + path.string() + ": " +
                             errno_code().message());
  }
}

// Only the daemon's own user and root may act through the socket. The 0600 mode already says
// so; this also holds when an administrator loosens the mode or the directory's permissions.
bool peer_allowed(Socket& sock) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return false;
  }
  return cred.uid == 0 || cred.uid == ::geteuid();
}

enum class ReadResult { Line, TooLong, Closed };

asio::awaitable<ReadResult> read_request(Socket& sock, std::string& line) {
  auto [ec, n] = co_await asio::async_read_until(
      sock, asio::dynamic_buffer(line, kMaxControlRequest), '\n', kTuple);
  if (ec == asio::error::not_found) {
    co_return ReadResult::TooLong;  // kMaxControlRequest bytes without a newline
  }
  if (ec) {
    co_return ReadResult::Closed;
  }
  line.resize(n - 1);  // anything after the first line is ignored: one request per connection
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  co_return ReadResult::Line;
}

// Cancels the read at the deadline (unless the read finished first and cancelled us); the
// socket stays open so that the client is told why.
asio::awaitable<void> watchdog(Socket& sock, std::chrono::milliseconds after) {
  asio::steady_timer timer(sock.get_executor(), after);
  auto [ec] = co_await timer.async_wait(kTuple);
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  if (ec || cs.cancelled() != asio::cancellation_type::none) {
    co_return;
  }
  boost::system::error_code ignored;
  sock.cancel(ignored);
}

asio::awaitable<void> serve(Socket sock, ControlServer::FlushFn flush,
                            std::chrono::milliseconds timeout) {
  std::string reply;
  if (!peer_allowed(sock)) {
    base::log_warn() << "control result=refused reason=peer-uid";
    reply = "error permission denied";
  } else {
    std::string line;
    asio::awaitable<ReadResult> reading = read_request(sock, line);
    asio::awaitable<void> dog = watchdog(sock, timeout);
    auto race = std::move(reading) || std::move(dog);
    std::variant<ReadResult, std::monostate> r = co_await std::move(race);
    if (r.index() == 1) {
      reply =
          "error timeout: no complete request within " + std::to_string(timeout.count()) + " ms";
    } else if (std::get<0>(r) == ReadResult::TooLong) {
      reply = "error request too long (max " + std::to_string(kMaxControlRequest) + " bytes)";
    } else if (std::get<0>(r) == ReadResult::Closed) {
      co_return;
    } else {
      reply = control_reply(line, flush);
      base::Log log(line == "ping" ? base::LogLevel::Debug : base::LogLevel::Info);
      log << "control request=" << base::log_quote(line) << " reply=" << base::log_quote(reply);
    }
  }
  reply += '\n';
  // A reply this short fits the socket buffer, so the write completes without waiting on the
  // client; its outcome does not matter (the client may have gone).
  co_await asio::async_write(sock, asio::buffer(reply), kTuple);
  boost::system::error_code ignored;
  sock.shutdown(Socket::shutdown_both, ignored);
}

}  // namespace

std::string control_reply(std::string_view request, const ControlServer::FlushFn& flush) {
  if (request == "ping") {
    return "ok hikyaku " HK_VERSION;
  }
  if (request == "flush" || request.starts_with("flush ")) {
    if (!flush) {
      return "error flush is not available";
    }
    if (request == "flush") {
      flush("");
      return "ok flushing every queued message";
    }
    std::string_view id = request.substr(6);
    // Checked before it goes anywhere near the queue folder: an ID can never be a path.
    if (!queue::valid_id(id)) {
      return "error invalid id";
    }
    std::string ids(id);
    if (!flush(ids)) {
      return "error unknown id " + ids;
    }
    return "ok flushing " + ids;
  }
  return "error unknown request (expected ping, flush or flush ID)";
}

ControlServer::ControlServer(asio::any_io_executor ex, fs::path socket_path, FlushFn flush)
    : acceptor_(std::move(ex)), path_(std::move(socket_path)), flush_(std::move(flush)) {
  sockaddr_un addr{};
  if (!make_address(path_, addr)) {
    throw std::runtime_error("control socket path " + path_.string() + " is too long (max " +
                             std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  }
  remove_stale_socket(path_, addr);
  asio::local::stream_protocol::endpoint ep(path_.native());
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) {
    acceptor_.bind(ep, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot create control socket " + path_.string() + ": " +
                             ec.message());
  }
  bound_ = true;
  // Not listening yet, so nobody can connect before the mode is tightened (a umask would be
  // process-wide and racy with the worker threads).
  if (::chmod(path_.c_str(), 0600) != 0) {
    std::string why = errno_code().message();
    close();
    throw std::runtime_error("cannot chmod control socket " + path_.string() + ": " + why);
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    close();
    throw std::runtime_error("cannot listen on control socket " + path_.string() + ": " +
                             ec.message());
  }
}

ControlServer::~ControlServer() { close(); }

asio::awaitable<void> ControlServer::run() {
  for (;;) {
    auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      // EMFILE and friends: log, breathe, keep accepting.
      base::log_warn() << "control accept error=" << base::log_quote(ec.message());
      asio::steady_timer t(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(kTuple);
      continue;
    }
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(sock), flush_, timeout_),
                   [](std::exception_ptr e) {
                     if (!e) {
                       return;
                     }
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       base::log_error()
                           << "control result=internal-error error=" << base::log_quote(ex.what());
                     }
                   });
  }
}

void ControlServer::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  if (bound_) {
    bound_ = false;
    ::unlink(path_.c_str());
  }
}

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

}  // namespace hk::server
