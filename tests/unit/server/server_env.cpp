// The test daemon environment of server_env.hpp.
#include "server_env.hpp"

#include <boost/asio/co_spawn.hpp>
#include <fstream>
#include <sstream>

#include "certs/cert_store.hpp"
#include "certs/self_signed.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "domains/user_db.hpp"
#include "domains/watcher.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dkim/signer.hpp"

namespace hk::server::test {
namespace fs = std::filesystem;

namespace {

// Cheap scrypt parameters: the tests measure the session, not the hash.
const domains::ScryptParams kFastScrypt{4, 8, 1};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

asio::awaitable<std::vector<queue::DeliveryResult>> IdleCourier::deliver(
    const queue::Envelope&, const std::vector<const queue::Recipient*>&, const std::string&) {
  co_return std::vector<queue::DeliveryResult>{};
}

ServerEnv::ServerEnv(const std::function<void(config::Config&)>& tweak) {
  cfg.hostname = "mx.test";
  cfg.config_dir = dir.path() / "etc";
  cfg.data_dir = dir.path() / "data";
  cfg.trusted_networks = {};
  cfg.limits.max_message_size = 1024 * 1024;
  cfg.limits.max_recipients = 5;
  cfg.limits.command_timeout = std::chrono::seconds(30);
  cfg.limits.data_timeout = std::chrono::seconds(30);
  if (tweak) {
    tweak(cfg);
  }
  fs::create_directories(cfg.queue_dir());
  fs::create_directories(cfg.mail_dir());

  certs::make_self_signed(cfg.certs_dir() / "mx.test", {"mx.test"}, 30);
  certs = std::make_unique<certs::CertStore>(cfg.certs_dir(), cfg.hostname, certs::MinTls::V1_2);
  certs->load();

  domains::UserDb users;
  users.set("alice", "secret", kFastScrypt);
  users.set("bob", "hunter2", kFastScrypt);
  dir.write("etc/domains/example.test/users", users.serialize());
  dir.write("etc/domains/example.test/aliases",
            "# test aliases\n"
            "sales: alice\n"
            "team: alice, bob\n"
            "fwd: someone@remote.test\n"
            "postmaster: alice\n");
  dir.write("etc/domains/catchall.test/aliases", "*: alice@example.test\n");
  domains = std::make_unique<domains::DomainsWatcher>(cfg.domains_dir());

  store = std::make_unique<queue::QueueStore>(cfg.queue_dir());
  queue::Queue::Options opts;
  opts.retry = {std::chrono::minutes(5)};
  opts.lifetime = std::chrono::hours(24);
  opts.max_concurrent = 1;
  queue = std::make_unique<queue::Queue>(io.get_executor(), pool, *store, opts, courier, nullptr,
                                         clock);
}

ServerEnv::~ServerEnv() { pool.join(); }

void ServerEnv::add_dkim_key(const std::string& domain, const std::string& selector) {
  dir.write("etc/domains/" + domain + "/dkim/" + selector + ".pem",
            dkim::generate_key_pem(dkim::DkimAlgo::Ed25519));
}

void ServerEnv::enable_signing() {
  dkim_keys = std::make_unique<dkim::DkimKeyring>(cfg.domains_dir());
  dkim_signer = std::make_unique<dkim::DkimSigner>();
}

Deps ServerEnv::deps() {
  Deps d;
  d.cfg = &cfg;
  d.domains = domains.get();
  d.certs = certs.get();
  d.store = store.get();
  d.queue = queue.get();
  d.pool = &pool;
  d.metrics = &metrics;
  d.dkim_keys = dkim_keys.get();
  d.dkim_signer = dkim_signer.get();
  d.abuse = &abuse;
  d.counts = &counts;
  return d;
}

void ServerEnv::start_session(TestStream& client, Port port, bool* done,
                              std::exception_ptr* escaped) {
  auto transport = std::make_unique<MemoryTransport>(client, asio::ip::make_address("127.0.0.1"));
  asio::co_spawn(io, serve(std::move(transport), deps(), port),
                 [done, escaped](std::exception_ptr e) {
                   *escaped = e;
                   *done = true;
                 });
}

fs::path ServerEnv::maildir(const std::string& domain, const std::string& user) const {
  return cfg.mail_dir() / domain / user / "new";
}

size_t ServerEnv::maildir_count(const std::string& domain, const std::string& user) const {
  std::error_code ec;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(maildir(domain, user), ec)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

std::string ServerEnv::maildir_text(const std::string& domain, const std::string& user) const {
  std::error_code ec;
  std::string out;
  for (const auto& e : fs::directory_iterator(maildir(domain, user), ec)) {
    out += read_file(e.path());
  }
  return out;
}

size_t ServerEnv::queued_files() const { return store->list().size(); }

std::string ServerEnv::queued_text() const {
  std::string out;
  for (const auto& e : fs::directory_iterator(cfg.queue_dir())) {
    if (e.is_regular_file()) {
      out += read_file(e.path());
    }
  }
  return out;
}

}  // namespace hk::server::test
