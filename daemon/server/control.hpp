// The control socket server: a UNIX stream socket at DATA_DIR/control.sock through which
// hikyaku-util asks the running daemon to act. The protocol and the client are in lib/control.
//
// SECURITY: the socket is created with mode 0600 inside the data directory, so only the daemon's
// user (and root) can connect; the server also checks the peer's uid (SO_PEERCRED) and refuses
// anybody else. Requests are one short line, bounded in size and time, and IDs are checked with
// queue::valid_id before they reach the queue, so a request can never name a path.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include "lib/control/protocol.hpp"

namespace hk::server {

using control::kControlTimeout;
using control::kMaxControlRequest;

class ControlServer {
 public:
  // Asked to retry `id` now ("" = every queued message); returns false for an unknown id. Runs on
  // the server's executor and must not block.
  using FlushFn = std::function<bool(const std::string& id)>;
  // The status reply's JSON (daemon/server/status.hpp). Runs on the server's executor.
  using StatusFn = std::function<std::string()>;

  // Binds and listens at once. A socket file left behind by a daemon that died is removed first;
  // throws std::runtime_error when the path is too long, is not a socket, or another daemon
  // answers on it.
  ControlServer(boost::asio::any_io_executor ex, std::filesystem::path socket_path, FlushFn flush,
                StatusFn status = nullptr);
  ~ControlServer();  // close()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // The accept loop: one coroutine per connection. Returns once close() was called.
  boost::asio::awaitable<void> run();
  // Stops accepting and unlinks the socket file; connections in progress finish. Call it on the
  // executor's thread.
  void close();

  const std::filesystem::path& path() const { return path_; }
  // Test seam: the request deadline (kControlTimeout otherwise), for connections accepted later.
  void set_timeout_for_test(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::filesystem::path path_;
  FlushFn flush_;
  StatusFn status_;
  std::chrono::milliseconds timeout_ = kControlTimeout;
  bool bound_ = false;  // we created the socket file, so close() may unlink it
};

// What the daemon answered; pure function of a request line, exposed for tests.
std::string control_reply(std::string_view request, const ControlServer::FlushFn& flush,
                          const ControlServer::StatusFn& status = nullptr);

}  // namespace hk::server
