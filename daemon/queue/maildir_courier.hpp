// MaildirCourier: delivers local recipients into their Maildir (deliver_to_maildir) on the
// thread pool, so that the I/O thread never waits for a disk.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <string>
#include <system_error>

#include "daemon/queue/courier.hpp"
#include "daemon/queue/delivery_metrics.hpp"

namespace hk::queue {

class MaildirCourier final : public Courier {
 public:
  // `mail_dir` is DATA_DIR/mail; `hostname` goes into the Maildir file names. Each delivery is
  // counted in `metrics` when given.
  MaildirCourier(boost::asio::thread_pool& pool, std::filesystem::path mail_dir,
                 std::string hostname, const TransportMetrics* metrics = nullptr);

  boost::asio::awaitable<std::vector<DeliveryResult>> deliver(
      const Envelope& env, const std::vector<const Recipient*>& rcpts,
      const std::string& message) override;

  // The result reported for a deliver_to_maildir outcome (pure; exposed for tests).
  static DeliveryResult result_for(std::error_code ec);

 private:
  boost::asio::thread_pool& pool_;
  std::filesystem::path mail_dir_;
  std::string hostname_;
  const TransportMetrics* metrics_;
};

}  // namespace hk::queue
