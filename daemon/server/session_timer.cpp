// Session deadlines, stress mode and the timeout's 421.
#include "daemon/server/session_timer.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/server/listener.hpp"
#include "daemon/server/server_metrics.hpp"
#include "daemon/server/smtp_channel.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace hk::server {

SessionTimer::SessionTimer(Transport& transport, const config::Config& cfg,
                           const ServerMetrics* metrics, const std::string& client_ip,
                           const SmtpChannel& io, const ConnectionCounts* counts)
    : transport_(transport),
      cfg_(cfg),
      metrics_(metrics),
      client_ip_(client_ip),
      io_(io),
      counts_(counts),
      end_of_life_(Clock::now() + cfg.limits.connection_timeout),
      timer_(transport.executor()) {
  wait_command();
}

bool SessionTimer::stressed(const config::Config& cfg, const ConnectionCounts* counts) {
  const auto& l = cfg.limits;
  return counts != nullptr && l.stress_threshold > 0 &&
         counts->total * 100 >= l.max_connections * l.stress_threshold;
}

// Postfix's stress mode: when the slots run out, idle clients are the ones to give way.
std::chrono::seconds SessionTimer::idle_limit() const {
  const auto& l = cfg_.limits;
  return stressed(cfg_, counts_) ? std::min(l.command_timeout, l.stress_timeout)
                                 : l.command_timeout;
}

std::chrono::seconds SessionTimer::line_limit() const {
  const auto& l = cfg_.limits;
  return stressed(cfg_, counts_) ? std::min(l.command_line_timeout, l.stress_timeout)
                                 : l.command_line_timeout;
}

SessionTimer::Clock::time_point SessionTimer::next_wake() const {
  if (command_wait_) {
    return std::min({end_of_life_, wait_start_ + idle_limit(), line_check_});
  }
  return std::min(deadline_, end_of_life_);
}

void SessionTimer::wait_command() {
  command_wait_ = true;
  wait_start_ = Clock::now();
  line_check_ = wait_start_ + line_limit();
  // A later wake is noticed when the armed timer fires; an earlier one re-arms it now.
  Clock::time_point wake = next_wake();
  if (armed_ == Clock::time_point{} || wake < armed_) {
    arm(wake);
  }
}

void SessionTimer::touch(std::chrono::seconds timeout) {
  command_wait_ = false;
  deadline_ = Clock::now() + timeout;
  Clock::time_point wake = next_wake();
  if (armed_ == Clock::time_point{} || wake < armed_) {
    arm(wake);
  }
}

void SessionTimer::arm(Clock::time_point at) {
  armed_ = at;
  timer_.expires_at(at);
  timer_.async_wait([this](const boost::system::error_code& ec) { on_timer(ec); });
}

void SessionTimer::on_timer(const boost::system::error_code& ec) {
  if (ec || finished_) {
    return;  // cancelled or re-armed, or the session is over
  }
  armed_ = {};
  Clock::time_point now = Clock::now();
  if (now >= end_of_life_) {
    expire("connection");
    return;
  }
  if (command_wait_) {
    if (now >= wait_start_ + idle_limit()) {
      expire("command");
      return;
    }
    if (now >= line_check_) {
      // Bytes of a line but no line end after a whole period: a client trickling its command
      // (slowloris) would otherwise hold the slot for the full command_timeout.
      if (io_.has_unread_input()) {
        expire("command-line");
        return;
      }
      line_check_ = now + line_limit();
    }
  } else if (now >= deadline_) {
    expire("step");
    return;
  }
  arm(next_wake());
}

void SessionTimer::expire(const char* what) {
  // RFC 5321 §4.5.3.2: the server may close after its timeout; tell the client why. Closing the
  // socket ends the read the session is waiting in.
  base::log_info() << "session client=" << client_ip_ << " result=timeout wait=" << what
                   << (stressed(cfg_, counts_) ? " stress=yes" : "");
  metrics_->session_timeouts.inc();
  transport_.abort("421 4.4.2 " + cfg_.hostname + " Timeout exceeded, closing connection\r\n");
}

asio::awaitable<void> SessionTimer::finish() {
  finished_ = true;
  timer_.cancel();
  // A handler already queued runs before this post completes (one FIFO I/O thread) and sees
  // finished_; after it, no handler can refer to the session.
  co_await asio::post(timer_.get_executor(), asio::use_awaitable);
}

}  // namespace hk::server
