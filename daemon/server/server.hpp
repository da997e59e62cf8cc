// Server: owns everything the daemon runs — the I/O context, the worker pool, domains,
// certificates, the queue and the listeners — and wires them together. main() only builds one and
// runs it.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/delivery/destinations.hpp"
#include "daemon/queue/delivery_log.hpp"
#include "daemon/queue/delivery_metrics.hpp"
#include "daemon/server/abuse_guard.hpp"
#include "daemon/server/drain.hpp"
#include "daemon/server/listener.hpp"
#include "daemon/server/operator_metrics.hpp"
#include "daemon/server/server_metrics.hpp"
#include "daemon/server/status.hpp"
#include "domains/auth_cache.hpp"
#include "lib/base/clock.hpp"
#include "lib/config/config.hpp"
#include "lib/dmarc/org_domain.hpp"
#include "lib/metrics/endpoint.hpp"
#include "lib/metrics/recent_counts.hpp"
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
namespace hk::delivery {
class RemoteCourier;
}
namespace hk::srs {
class SecretFile;
}
namespace hk::capture {
class CaptureStore;
}
namespace hk::console {
class ConsoleServer;
}

namespace hk::server {

class ControlServer;
class ConsoleBackend;

class Server {
 public:
  // Loads domains and certificates, opens the queue and binds every listener; throws
  // std::runtime_error (with a message for the administrator) when any of that fails. With
  // run_as, started as root, then hands data_dir to that user and drops root before returning.
  explicit Server(config::Config cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs until SIGTERM/SIGINT, then drains (see stop()) and returns. SIGHUP reloads
  // hikyaku.toml, certificates, users, aliases and DKIM keys.
  void run();

 private:
  boost::asio::awaitable<void> signals();
  boost::asio::awaitable<void> reload_loop();
  void reload(bool forced);
  // hikyaku.toml again: applied to new sessions and new deliveries, or the running one kept.
  void reload_config();
  // Stop accepting, answer idle sessions 421, let DATA in progress and deliveries in flight end
  // within limits.shutdown_grace, then stop the I/O context.
  void stop();
  boost::asio::awaitable<void> drain();
  // True once no session is left and the queue runner has returned; false at `end`.
  boost::asio::awaitable<bool> wait_drained(std::chrono::steady_clock::time_point end);
  void drop_privileges();
  // Counts a reload of `what` and remembers its error (empty: it succeeded) for `status`.
  void note_reload(ReloadWhat what, const std::string& error);
  // Logs certificates that expire within 14 days or have expired, and sets their expiry gauges:
  // at start, after each reload of the certificates, and once a day.
  void check_cert_expiry();
  // Delivered, deferred, bounced, expired, DSNs sent: the totals RecentCounts samples.
  std::array<uint64_t, 5> delivery_totals() const;
  // The control socket's "status" reply (daemon/server/status.hpp).
  std::string status_json();
  // The console's Backend over the queue, the delivery log and the rest (ops; see below).
  void start_console_backend();

  // Replaced whole by a reload; each session keeps the one it started with (Deps::live_cfg).
  std::shared_ptr<const config::Config> cfg_;
  boost::asio::io_context io_{1};
  boost::asio::thread_pool pool_{2};
  // Registered before anything that updates them; the handles live as long as the Server.
  metrics::Registry registry_;
  queue::DeliveryMetrics delivery_metrics_ = queue::register_delivery_metrics(registry_);
  ServerMetrics metrics_ = register_server_metrics(registry_, delivery_metrics_);
  delivery::DestinationMetrics destination_metrics_ =
      delivery::register_destination_metrics(registry_);
  OperatorMetrics ops_ = register_operator_metrics(registry_);
  // The last hour's growth of delivery_totals(), sampled by the reload loop and by `status`.
  metrics::RecentCounts<5> recent_;
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::array<std::optional<ReloadError>, kReloadWhats> reload_errors_;
  std::chrono::steady_clock::time_point expiry_checked_{};
  ConnectionCounts counts_;
  base::SystemClock abuse_clock_;
  AbuseGuard abuse_{abuse_clock_};  // failed logins and rates, across connections
  std::unique_ptr<domains::DomainsWatcher> domains_;
  domains::AuthCache auth_cache_;  // recent successful logins; configured from [auth]
  std::unique_ptr<certs::CertStore> certs_;
  std::unique_ptr<queue::QueueStore> store_;
  std::unique_ptr<queue::Courier> local_courier_;
  base::SystemClock clock_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<dns::CachingResolver> dns_;  // SPF, inbound DKIM, MTA-STS and delivery share it
  std::unique_ptr<dkim::DkimKeyring> dkim_keys_;
  std::unique_ptr<dkim::DkimSigner> dkim_signer_;
  std::unique_ptr<srs::SecretFile> srs_;          // DATA_DIR/srs.key
  std::unique_ptr<dmarc::PublicSuffixList> psl_;  // loaded once, at start
  std::unique_ptr<delivery::RemoteCourier> remote_courier_;
  std::unique_ptr<queue::Queue> queue_;
  std::unique_ptr<ControlServer> control_;  // after queue_: destroyed first
  // ---- capture mode (docs/capture.md) ----
  // Captured mail, when [capture] enabled at start (turning it on or off needs a restart); after
  // store_ and queue_, which its release uses: destroyed before them.
  std::unique_ptr<capture::CaptureStore> capture_;
  void start_capture();
  // ---- end of capture mode ----
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<metrics::Endpoint>> metrics_endpoints_;
  // ---- the console's view of the daemon (ops: docs/api.md, "hikyaku's own endpoints") ----
  // The last [console] log_events delivery outcomes, fed by the queue runner; and the Backend
  // the console's ops endpoints use (add_ops_api). Declared before the console server, which
  // refers to the backend, so that the server is destroyed first.
  queue::DeliveryLog delivery_log_{0};
  std::unique_ptr<ConsoleBackend> console_backend_;
  // ---- end of the console's view ----
  // --- console (the web console: daemon/console/console_server.hpp) ---
  // Binds [listen] console with the Router of every route group; nothing when the list is empty.
  void make_console();
  // Applies a reloaded [console] (password file, host names) and [auth] cache to new requests.
  void configure_console();
  std::unique_ptr<console::ConsoleServer> console_;  // after what it reads: destroyed first
  // --- end console ---
  Drain drain_;
  bool stopping_ = false;
  bool queue_stopped_ = false;  // Queue::run() has returned: no attempt in flight
};

}  // namespace hk::server
