// SessionTimer: the timeouts of one SMTP session (RFC 5321 §4.5.3.2) — the wait for a command
// (shorter under stress, and a bound on a command line that trickles in), the deadline of other
// steps (DATA, the work after a command), a cap on the whole connection — and what happens when
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
struct ConnectionCounts;
class SmtpChannel;

// A plain timer handler, not a second coroutine, enforces the deadlines: the coroutine and its
// parallel group would cost about 3 KiB per idle connection (docs/architecture.md).
class SessionTimer {
 public:
  using Clock = std::chrono::steady_clock;

  // Arms the connection cap (limits.connection_timeout) and a first command wait. `io` tells
  // whether part of a command line has arrived; `counts` (may be null) whether the daemon is
  // under stress. All references must outlive the timer.
  SessionTimer(Transport& transport, const config::Config& cfg, const ServerMetrics* metrics,
               const std::string& client_ip, const SmtpChannel& io, const ConnectionCounts* counts);
  SessionTimer(const SessionTimer&) = delete;
  SessionTimer& operator=(const SessionTimer&) = delete;

  // The session waits for the client's next command: command_timeout for it to come (under
  // stress, stress_timeout), and once it has begun, command_line_timeout for it to end.
  void wait_command();
  // The client (or the session's own work) has `timeout` from now for the next step.
  void touch(std::chrono::seconds timeout);
  // Stops the timer and waits until no timer handler can refer to it.
  asio::awaitable<void> finish();

  // Whether live connections have reached stress_threshold percent of max_connections.
  static bool stressed(const config::Config& cfg, const ConnectionCounts* counts);

 private:
  std::chrono::seconds idle_limit() const;
  std::chrono::seconds line_limit() const;
  Clock::time_point next_wake() const;
  void arm(Clock::time_point at);
  void on_timer(const boost::system::error_code& ec);
  void expire(const char* what);

  Transport& transport_;
  const config::Config& cfg_;
  const ServerMetrics* metrics_;
  const std::string& client_ip_;
  const SmtpChannel& io_;
  const ConnectionCounts* counts_;
  Clock::time_point end_of_life_;
  bool command_wait_ = false;
  Clock::time_point wait_start_;  // command wait: when it began
  Clock::time_point line_check_;  // command wait: when to look for an unfinished line
  Clock::time_point deadline_;    // other steps
  Clock::time_point armed_{};     // when the armed timer fires; {} = not armed
  asio::steady_timer timer_;
  bool finished_ = false;
};

}  // namespace hk::server
