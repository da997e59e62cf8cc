// Bounces: when recipients of a queued message fail for good, one delivery status notification
// (RFC 3464) goes back to the envelope sender — never for a null sender, so bounces cannot loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <vector>

#include "daemon/queue/envelope.hpp"

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

// Builds the DSN for `failed` (copies) and queues it. Logs and gives up on errors: the failure
// itself is already recorded in the original message's state.
boost::asio::awaitable<void> send_bounce(BounceDeps deps, queue::Envelope env,
                                         std::vector<queue::Recipient> failed);

}  // namespace hk::server
