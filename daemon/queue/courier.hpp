// Courier: the seam between the queue runner and a transport. One implementation per transport
// (Maildir here; MX and relay in the delivery module); tests use a fake.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "daemon/queue/envelope.hpp"

namespace hk::queue {

struct DeliveryResult {
  enum class Status { Delivered, Transient, Permanent } status;
  // The remote's reply or our error text, starting with an SMTP code when there is one
  // ("451 4.3.0 …"): the runner logs that code and keeps the text for the DSN.
  std::string reply;
};

class Courier {
 public:
  virtual ~Courier() = default;
  // Delivers `message` to `rcpts` (pointers into env.rcpts). Returns one result per recipient in
  // the same order; a missing result counts as a transient failure. Expected failures are results,
  // never exceptions.
  virtual boost::asio::awaitable<std::vector<DeliveryResult>> deliver(
      const Envelope& env, const std::vector<const Recipient*>& rcpts,
      const std::string& message) = 0;
};

}  // namespace hk::queue
