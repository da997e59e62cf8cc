// Session deadlines and the timeout's 421.
#include "daemon/server/session_timer.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/server/server_metrics.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace hk::server {

SessionTimer::SessionTimer(Transport& transport, const config::Config& cfg,
                           const ServerMetrics* metrics, const std::string& client_ip)
    : transport_(transport),
      cfg_(cfg),
      metrics_(metrics),
      client_ip_(client_ip),
      end_of_life_(std::chrono::steady_clock::now() + cfg.limits.connection_timeout),
      timer_(transport.executor()) {
  touch(cfg_.limits.command_timeout);
}

void SessionTimer::touch(std::chrono::seconds timeout) {
  auto old = std::min(deadline_, end_of_life_);
  deadline_ = std::chrono::steady_clock::now() + timeout;
  // A later deadline is noticed when the armed timer fires; an earlier one re-arms it now.
  if (std::min(deadline_, end_of_life_) < old || old == std::chrono::steady_clock::time_point{}) {
    arm();
  }
}

void SessionTimer::arm() {
  timer_.expires_at(std::min(deadline_, end_of_life_));
  timer_.async_wait([this](const boost::system::error_code& ec) { on_timer(ec); });
}

void SessionTimer::on_timer(const boost::system::error_code& ec) {
  if (ec || finished_) {
    return;  // cancelled or re-armed, or the session is over
  }
  if (std::chrono::steady_clock::now() < std::min(deadline_, end_of_life_)) {
    arm();
    return;
  }
  // RFC 5321 §4.5.3.2: the server may close after its timeout; tell the client why. Closing the
  // socket ends the read the session is waiting in.
  base::log_info() << "session client=" << client_ip_ << " result=timeout";
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
