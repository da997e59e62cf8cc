// DeliveryResult: what one delivery attempt to one recipient came to, as the SMTP client, the
// couriers and the queue runner pass it along.
#pragma once

#include <string>

namespace hk::queue {

struct DeliveryResult {
  enum class Status { Delivered, Transient, Permanent } status;
  // The remote's reply or our error text, starting with an SMTP code when there is one
  // ("451 4.3.0 …"): the runner logs that code and keeps the text for the DSN.
  std::string reply;
};

}  // namespace hk::queue
