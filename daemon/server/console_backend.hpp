// ConsoleBackend: the console's view of the running daemon (console::Backend) over its parts —
// the queue folder and runner, the delivery log, the control socket's status reply, the DKIM
// keys, the [[relay]] smart hosts (the probe `hikyaku-util test-relay` runs) and check-dns. Built
// by the Server; every member runs on the I/O thread, and file and DNS work never blocks it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/console/backend.hpp"
#include "lib/config/config.hpp"

namespace hk::queue {
class QueueStore;
class Queue;
class DeliveryLog;
}  // namespace hk::queue
namespace hk::dns {
class Lookup;
}
namespace hk::dkim {
class DkimKeyring;
}

namespace hk::server {

struct ConsoleBackendDeps {
  boost::asio::any_io_executor ex;
  boost::asio::thread_pool* pool = nullptr;
  queue::QueueStore* store = nullptr;
  queue::Queue* queue = nullptr;
  queue::DeliveryLog* log = nullptr;
  // The configuration in force (replaced whole by a reload), as the sessions see it.
  const std::shared_ptr<const config::Config>* live_cfg = nullptr;
  // Uncached lookups for check-dns and the relay test: they show the DNS as it is now.
  dns::Lookup* dns = nullptr;
  dkim::DkimKeyring* dkim_keys = nullptr;
  std::function<std::string()> status;  // the control socket's status reply (status.hpp)
  // The console's own listening addresses ("127.0.0.1:8025"); may be unset.
  std::function<std::vector<std::string>()> console_addresses;
  // The local domains in force (the health page offers check-dns for each); may be unset.
  std::function<std::vector<std::string>()> local_domains;
};

class ConsoleBackend final : public console::Backend {
 public:
  explicit ConsoleBackend(ConsoleBackendDeps deps);

  boost::asio::awaitable<std::string> queue_json(size_t offset, size_t limit) override;
  bool retry(const std::string& queue_id) override;
  boost::asio::awaitable<std::error_code> remove(const std::string& queue_id) override;
  std::string delivery_log_json(const std::string& queue_id, size_t limit) override;
  std::string health_json() override;
  size_t relay_count() override;
  boost::asio::awaitable<std::string> relay_test_json(size_t relay, std::string send_to) override;
  boost::asio::awaitable<std::string> check_dns_json(std::string domain) override;

 private:
  const config::Config& cfg() const { return **deps_.live_cfg; }
  ConsoleBackendDeps deps_;
};

}  // namespace hk::server
