// Bounces: when recipients of a queued message fail for good, one delivery status notification
// (RFC 3464) goes back to the envelope sender — never for a null sender, so bounces cannot loop.
// The delay warning (Action: delayed) takes the same way back.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <ctime>
#include <string>
#include <vector>

#include "lib/queue/envelope.hpp"

namespace hk::domains {
class DomainsWatcher;
}
namespace hk::queue {
class QueueStore;
class Queue;
}  // namespace hk::queue

namespace hk::server {

struct BounceDeps {
  queue::QueueStore* store = nullptr;
  queue::Queue* queue = nullptr;
  domains::DomainsWatcher* domains = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  std::string hostname;
};

// Builds the DSN for `failed` (copies) and the queued bytes `original` (a copy: the original may
// already be gone from the store), and queues it. Logs and gives up on errors: the failure
// itself is already recorded in the original message's state.
boost::asio::awaitable<void> send_bounce(BounceDeps deps, queue::Envelope env,
                                         std::vector<queue::Recipient> failed,
                                         std::string original);

// Builds the delay warning for `pending` (copies), the recipients still being retried until
// `retry_until`, and queues it. Logs and gives up on errors: the original message stays queued,
// and its state already says that the warning was sent, so it is not tried again.
boost::asio::awaitable<void> send_delay_warning(BounceDeps deps, queue::Envelope env,
                                                std::vector<queue::Recipient> pending,
                                                std::time_t retry_until, std::string original);

}  // namespace hk::server
