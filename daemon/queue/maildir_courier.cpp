// MaildirCourier: local delivery on the thread pool.
#include "daemon/queue/maildir_courier.hpp"

#include <cerrno>
#include <chrono>

#include "daemon/queue/maildir.hpp"
#include "lib/base/offload.hpp"

namespace hk::queue {

MaildirCourier::MaildirCourier(boost::asio::thread_pool& pool, std::filesystem::path mail_dir,
                               std::string hostname, const TransportMetrics* metrics)
    : pool_(pool),
      mail_dir_(std::move(mail_dir)),
      hostname_(std::move(hostname)),
      metrics_(metrics) {}

DeliveryResult MaildirCourier::result_for(std::error_code ec) {
  using Status = DeliveryResult::Status;
  if (!ec) {
    return {Status::Delivered, 250, "2.0.0", "delivered to maildir"};
  }
  // Enhanced codes per RFC 3463: 5.1.1 bad mailbox, 4.2.2 mailbox full, 4.3.1 system full.
  if (ec == std::errc::invalid_argument) {
    return {Status::Permanent, 550, "5.1.1", "mailbox name not usable"};
  }
  if (ec.value() == EDQUOT && ec.category() == std::generic_category()) {
    return {Status::Transient, 452, "4.2.2", "mailbox over quota"};
  }
  if (ec == std::errc::no_space_on_device) {
    return {Status::Transient, 452, "4.3.1", "insufficient system storage"};
  }
  return {Status::Transient, 451, "4.3.0", "local delivery failed: " + ec.message()};
}

boost::asio::awaitable<std::vector<DeliveryResult>> MaildirCourier::deliver(
    const Envelope& env, const std::vector<const Recipient*>& rcpts, const std::string& message) {
  // One trip to the pool for all recipients; the references stay valid because this coroutine
  // is suspended until the work is done.
  auto start = std::chrono::steady_clock::now();
  std::vector<DeliveryResult> done = co_await base::offload(pool_, [this, &env, &rcpts, &message] {
    std::vector<DeliveryResult> results;
    results.reserve(rcpts.size());
    for (const Recipient* r : rcpts) {
      results.push_back(
          result_for(deliver_to_maildir(mail_dir_, r->address, env.from, message, hostname_)));
    }
    return results;
  });
  if (metrics_ != nullptr) {
    metrics_->record(done, std::chrono::steady_clock::now() - start);
  }
  co_return done;
}

}  // namespace hk::queue
