// SessionTimer: the timeouts of one SMTP session (RFC 5321 §4.5.3.2) — a deadline that every
// command moves (further during DATA) and a cap on the whole connection — and what happens when
// one passes: a 421 and the end of the transport.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "daemon/server/transport.hpp"

namespace hk::config {
struct Config;
}

namespace hk::server {

struct ServerMetrics;

// A plain timer handler, not a second coroutine, enforces the deadlines: the coroutine and its
// parallel group would cost about 3 KiB per idle connection (docs/architecture.md).
class SessionTimer {
 public:
  // Arms the connection cap (limits.connection_timeout) and a first command deadline. All
  // references must outlive the timer.
  SessionTimer(Transport& transport, const config::Config& cfg, const ServerMetrics* metrics,
               const std::string& client_ip);
  SessionTimer(const SessionTimer&) = delete;
  SessionTimer& operator=(const SessionTimer&) = delete;

  // The client has `timeout` from now for its next step.
  void touch(std::chrono::seconds timeout);
  // Stops the timer and waits until no timer handler can refer to it.
  asio::awaitable<void> finish();

 private:
  void arm();
  void on_timer(const boost::system::error_code& ec);

  Transport& transport_;
  const config::Config& cfg_;
  const ServerMetrics* metrics_;
  const std::string& client_ip_;
  std::chrono::steady_clock::time_point end_of_life_;
  std::chrono::steady_clock::time_point deadline_;
  asio::steady_timer timer_;
  bool finished_ = false;
};

}  // namespace hk::server
