// Server: owns everything the daemon runs — the I/O context, the worker pool, domains,
// certificates, the queue and the listeners — and wires them together. main() only builds one and
// runs it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <vector>

#include "daemon/queue/delivery_metrics.hpp"
#include "daemon/server/abuse_guard.hpp"
#include "daemon/server/listener.hpp"
#include "daemon/server/server_metrics.hpp"
#include "lib/base/clock.hpp"
#include "lib/config/config.hpp"
#include "lib/metrics/endpoint.hpp"
#include "lib/metrics/registry.hpp"

namespace hk::domains {
class DomainsWatcher;
}
namespace hk::certs {
class CertStore;
}
namespace hk::queue {
class QueueStore;
class Queue;
class Courier;
}  // namespace hk::queue
namespace hk::dkim {
class DkimKeyring;
class DkimSigner;
}  // namespace hk::dkim
namespace hk::dns {
class Resolver;
class CachingResolver;
}  // namespace hk::dns

namespace hk::server {

class ControlServer;

class Server {
 public:
  // Loads domains and certificates, opens the queue and binds every listener; throws
  // std::runtime_error (with a message for the administrator) when any of that fails.
  explicit Server(config::Config cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs until SIGTERM/SIGINT. SIGHUP reloads certificates, users and aliases.
  void run();

 private:
  boost::asio::awaitable<void> signals();
  boost::asio::awaitable<void> reload_loop();
  void reload(bool forced);
  void stop();

  config::Config cfg_;
  boost::asio::io_context io_{1};
  boost::asio::thread_pool pool_{2};
  // Registered before anything that updates them; the handles live as long as the Server.
  metrics::Registry registry_;
  queue::DeliveryMetrics delivery_metrics_ = queue::register_delivery_metrics(registry_);
  ServerMetrics metrics_ = register_server_metrics(registry_, delivery_metrics_);
  ConnectionCounts counts_;
  base::SystemClock abuse_clock_;
  AbuseGuard abuse_{abuse_clock_};  // failed logins and rates, across connections
  std::unique_ptr<domains::DomainsWatcher> domains_;
  std::unique_ptr<certs::CertStore> certs_;
  std::unique_ptr<queue::QueueStore> store_;
  std::unique_ptr<queue::Courier> local_courier_;
  base::SystemClock clock_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<dns::CachingResolver> dns_;  // SPF, inbound DKIM, MTA-STS and delivery share it
  std::unique_ptr<dkim::DkimKeyring> dkim_keys_;
  std::unique_ptr<dkim::DkimSigner> dkim_signer_;
  std::unique_ptr<queue::Courier> remote_courier_;
  std::unique_ptr<queue::Queue> queue_;
  std::unique_ptr<ControlServer> control_;  // after queue_: destroyed first
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<metrics::Endpoint>> metrics_endpoints_;
  bool stopping_ = false;
};

}  // namespace hk::server
