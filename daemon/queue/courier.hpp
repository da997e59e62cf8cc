// Courier: the seam between the queue runner and a transport. One implementation per transport
// (Maildir here; MX and relay in the delivery module); tests use a fake.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "lib/queue/delivery_result.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::queue {

// The way a recipient's mail leaves: into a local Maildir, to its domain's MX hosts, or through a
// smart host ([[relay]]). For the delivery log (delivery_log.hpp).
enum class Route { Maildir, Mx, Relay };

class Courier {
 public:
  virtual ~Courier() = default;
  // Delivers `message` to `rcpts` (pointers into env.rcpts). Returns one result per recipient in
  // the same order; a missing result counts as a transient failure. Expected failures are results,
  // never exceptions.
  virtual boost::asio::awaitable<std::vector<DeliveryResult>> deliver(
      const Envelope& env, const std::vector<const Recipient*>& rcpts,
      const std::string& message) = 0;
  // The route this courier takes for `rcpt`; the default fits a courier with one route.
  virtual Route route(const Recipient& rcpt) const {
    return rcpt.local ? Route::Maildir : Route::Mx;
  }
};

}  // namespace hk::queue
