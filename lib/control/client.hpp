// The blocking control-socket client hikyaku-util uses to ask the running daemon to act.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

namespace hk::control {

struct ControlReply {
  bool ok = false;        // the daemon answered "ok ..."
  std::string text;       // the reply without "ok "/"error ", or what went wrong locally
  std::error_code error;  // set when the daemon could not be reached or did not answer; in
                          // particular no_such_file_or_directory / connection_refused when no
                          // daemon is listening on the path
};

// Sends `request` (a newline is added when missing) and waits for the reply line; blocking,
// plain POSIX sockets. `timeout` bounds the connect, the write and the read each.
ControlReply control_request(const std::filesystem::path& socket_path, const std::string& request,
                             std::chrono::seconds timeout);

}  // namespace hk::control
