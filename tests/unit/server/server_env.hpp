// ServerEnv: what a Session needs from the daemon, set up as tests/integration/lib.sh sets up the
// live daemon for the dialog scripts (write_config, setup_domains), in a temporary folder; and a
// way to start a session over an in-memory stream.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "daemon/queue/courier.hpp"
#include "daemon/queue/delivery_metrics.hpp"
#include "daemon/server/abuse_guard.hpp"
#include "daemon/server/listener.hpp"
#include "daemon/server/server_metrics.hpp"
#include "daemon/server/session.hpp"
#include "lib/base/clock.hpp"
#include "lib/config/config.hpp"
#include "lib/metrics/registry.hpp"
#include "memory_transport.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::certs {
class CertStore;
}
namespace hk::domains {
class DomainsWatcher;
}
namespace hk::queue {
class QueueStore;
class Queue;
}  // namespace hk::queue
namespace hk::dkim {
class DkimKeyring;
class DkimSigner;
}  // namespace hk::dkim

namespace hk::server::test {

// Queue attempts never run in these tests (Queue::run() is not started): a courier is only
// needed to build the Queue.
class IdleCourier : public queue::Courier {
 public:
  asio::awaitable<std::vector<queue::DeliveryResult>> deliver(
      const queue::Envelope&, const std::vector<const queue::Recipient*>&,
      const std::string&) override;
};

class ServerEnv {
 public:
  // hostname mx.test, no trusted networks, 1 MiB messages, 5 recipients per transaction, a
  // self-signed certificate for mx.test; example.test with alice (secret), bob (hunter2) and
  // the aliases of lib.sh, and catchall.test whose catch-all is alice. `tweak` may change the
  // configuration first. No DNS: SPF and DKIM verification are off (Deps::dns stays
  // null), as their results never change a dialog's replies.
  explicit ServerEnv(const std::function<void(config::Config&)>& tweak = {});
  ~ServerEnv();
  ServerEnv(const ServerEnv&) = delete;
  ServerEnv& operator=(const ServerEnv&) = delete;

  // DKIM keys for every domain with a domains/<domain>/dkim/*.pem (see add_dkim_key()).
  void enable_signing();
  void add_dkim_key(const std::string& domain, const std::string& selector);

  Deps deps();
  // Starts a session on `port` over an in-memory stream whose client end is `client`;
  // `*done` becomes true when the session has ended (and `*escaped` holds what it threw).
  void start_session(TestStream& client, Port port, bool* done, std::exception_ptr* escaped);

  std::filesystem::path maildir(const std::string& domain, const std::string& user) const;
  size_t maildir_count(const std::string& domain, const std::string& user) const;
  // Every message in the Maildir, concatenated.
  std::string maildir_text(const std::string& domain, const std::string& user) const;
  size_t queued_files() const;  // complete messages in the queue folder
  std::string queued_text() const;

  hk::test::TempDir dir;
  config::Config cfg;
  boost::asio::io_context io;
  boost::asio::thread_pool pool{2};
  metrics::Registry registry;
  queue::DeliveryMetrics delivery_metrics = queue::register_delivery_metrics(registry);
  ServerMetrics metrics = register_server_metrics(registry, delivery_metrics);
  base::SystemClock clock;
  ConnectionCounts counts;  // the in-memory sessions hold no slot: stays 0 unless a test sets it
  AbuseGuard abuse{clock};
  std::unique_ptr<domains::DomainsWatcher> domains;
  std::unique_ptr<certs::CertStore> certs;
  std::unique_ptr<queue::QueueStore> store;
  IdleCourier courier;
  std::unique_ptr<queue::Queue> queue;
  std::unique_ptr<dkim::DkimKeyring> dkim_keys;
  std::unique_ptr<dkim::DkimSigner> dkim_signer;
};

}  // namespace hk::server::test
