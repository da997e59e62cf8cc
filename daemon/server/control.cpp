// The control socket server: one coroutine per connection.
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
#include <tuple>
#include <utility>
#include <variant>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/base/log.hpp"
#include "lib/control/protocol.hpp"
#include "lib/queue/queue_file.hpp"

namespace hk::server {

namespace {

using base::errno_code;

using control::connect_unix;
using control::make_address;

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Socket = asio::local::stream_protocol::socket;
using namespace boost::asio::experimental::awaitable_operators;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

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
                            ControlServer::StatusFn status, std::chrono::milliseconds timeout) {
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
      reply = control_reply(line, flush, status);
      // ping and status only read: debug, and the status reply is not copied into the log.
      bool reads = line == "ping" || line == "status";
      base::Log log(reads ? base::LogLevel::Debug : base::LogLevel::Info);
      log << "control request=" << base::log_quote(line)
          << " reply=" << base::log_quote(line == "status" ? reply.substr(0, 2) : reply);
    }
  }
  reply += '\n';
  // A short reply fits the socket buffer, so the write completes without waiting on the client;
  // a status reply may not, so the write has the request's deadline too. Its outcome does not
  // matter (the client may have gone).
  {
    asio::awaitable<std::tuple<boost::system::error_code, size_t>> writing =
        asio::async_write(sock, asio::buffer(reply), kTuple);
    asio::awaitable<void> dog = watchdog(sock, timeout);
    auto race = std::move(writing) || std::move(dog);
    co_await std::move(race);
  }
  boost::system::error_code ignored;
  sock.shutdown(Socket::shutdown_both, ignored);
}

}  // namespace

std::string control_reply(std::string_view request, const ControlServer::FlushFn& flush,
                          const ControlServer::StatusFn& status) {
  if (request == "ping") {
    return "ok hikyaku " HK_VERSION;
  }
  if (request == "status") {
    if (!status) {
      return "error status is not available";
    }
    return "ok " + status();
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
  return "error unknown request (expected ping, status, flush or flush ID)";
}

ControlServer::ControlServer(asio::any_io_executor ex, fs::path socket_path, FlushFn flush,
                             StatusFn status)
    : acceptor_(std::move(ex)),
      path_(std::move(socket_path)),
      flush_(std::move(flush)),
      status_(std::move(status)) {
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
    asio::co_spawn(acceptor_.get_executor(), serve(std::move(sock), flush_, status_, timeout_),
                   [](std::exception_ptr e) { base::log_internal_error(e, "control"); });
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

}  // namespace hk::server
