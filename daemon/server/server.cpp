// Server wiring, signals, periodic reload and the metrics endpoints.
#include "daemon/server/server.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "certs/cert_store.hpp"
#include "certs/expiry.hpp"
#include "daemon/capture/capture_store.hpp"
#include "daemon/console/console_server.hpp"
#include "daemon/console/routes.hpp"
#include "daemon/delivery/remote_courier.hpp"
#include "daemon/queue/courier.hpp"
#include "daemon/queue/maildir_courier.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/bounce.hpp"
#include "daemon/server/console_backend.hpp"
#include "daemon/server/control.hpp"
#include "daemon/server/privileges.hpp"
#include "daemon/server/recipients.hpp"
#include "daemon/server/systemd_notify.hpp"
#include "domains/domains.hpp"
#include "domains/watcher.hpp"
#include "lib/base/log.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dns/caching_resolver.hpp"
#include "lib/dns/resolver.hpp"
#include "lib/queue/backoff_file.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "lib/srs/secret_file.hpp"

namespace hk::server {

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How often certificate, user and alias files are checked for changes (ACME renewals, edits).
constexpr std::chrono::seconds kReloadPeriod{2};

// What of the configuration the remote courier and the queue take, at start and at each reload.
delivery::RemoteOptions remote_options(const config::Config& cfg) {
  delivery::RemoteOptions remote;
  remote.hostname = cfg.hostname;
  remote.relays = cfg.relays;
  remote.mta_sts = cfg.delivery.mta_sts;
  remote.mta_sts_dir = cfg.data_dir / "mta-sts";
  remote.dane = cfg.delivery.dane;
  remote.tls_memory_dir = cfg.data_dir / "domaininfo";
  const config::Config::Delivery& d = cfg.delivery;
  remote.ip_version = d.ip_version;
  remote.prefer = d.prefer;
  if (!d.source_ipv4.empty()) {
    remote.source_v4 = asio::ip::make_address(d.source_ipv4);  // checked by the config parser
  }
  if (!d.source_ipv6.empty()) {
    remote.source_v6 = asio::ip::make_address(d.source_ipv6);
  }
  remote.helo_name = d.helo_name;
  remote.reuse_max_transactions = static_cast<unsigned>(d.max_messages_per_connection);
  remote.shaping.per_host = d.max_connections_per_host;
  remote.shaping.per_domain = d.max_connections_per_domain;
  remote.shaping.rate = d.rate_per_domain;
  remote.shaping.backoff_min = d.backoff_min;
  remote.shaping.backoff_max = d.backoff_max;
  remote.destinations_file = queue::backoff_path(cfg.data_dir);
  return remote;
}

dns::Resolver::Options dns_options(const config::Config& cfg) {
  dns::Resolver::Options dns_opts;
  for (const auto& ep : cfg.dns.servers) {
    dns_opts.servers.push_back(ep.str());
  }
  dns_opts.timeout = cfg.dns.timeout;
  dns_opts.attempts = cfg.dns.attempts;
  return dns_opts;
}

queue::Queue::Options queue_options(const config::Config& cfg) {
  queue::Queue::Options opts;
  opts.retry = cfg.queue.retry;
  opts.lifetime = cfg.queue.lifetime;
  opts.max_concurrent = cfg.queue.max_concurrent_deliveries;
  opts.delay_warning = cfg.queue.delay_warning;
  return opts;
}

}  // namespace

Server::Server(config::Config cfg) : cfg_(std::make_shared<const config::Config>(std::move(cfg))) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg_->queue_dir(), ec);
  fs::create_directories(cfg_->mail_dir(), ec);
  if (ec) {
    throw std::runtime_error("cannot create data directories under " + cfg_->data_dir.string() +
                             ": " + ec.message());
  }
  domains_ = std::make_unique<domains::DomainsWatcher>(cfg_->domains_dir());
  auth_cache_.configure(cfg_->auth.cache_ttl, cfg_->auth.cache_size);
  certs_ = std::make_unique<certs::CertStore>(cfg_->certs_dir(), cfg_->hostname,
                                              cfg_->tls.min_version, cfg_->tls.session_tickets);
  certs_->load();
  dkim_keys_ = std::make_unique<dkim::DkimKeyring>(cfg_->domains_dir());
  dkim_signer_ = std::make_unique<dkim::DkimSigner>();
  // Made at first start whatever [srs] enabled says, so that turning SRS on by a reload needs no
  // restart; never logged (docs/srs.md).
  srs_ = std::make_unique<srs::SecretFile>(cfg_->data_dir / "srs.key");
  psl_ = std::make_unique<dmarc::PublicSuffixList>(dmarc::PublicSuffixList::system());
  base::log_info() << "dmarc public_suffix_list=" << base::log_quote(psl_->source());
  store_ = std::make_unique<queue::QueueStore>(cfg_->queue_dir());
  local_courier_ = std::make_unique<queue::MaildirCourier>(pool_, cfg_->mail_dir(), cfg_->hostname,
                                                           &delivery_metrics_.maildir);
  resolver_ = std::make_unique<dns::Resolver>(io_.get_executor(), dns_options(*cfg_));
  dns_ = std::make_unique<dns::CachingResolver>(*resolver_, clock_);
  std::string tls_error;
  auto client_tls = delivery::make_client_tls_context("", tls_error);
  if (!client_tls) {
    throw std::runtime_error("cannot load the system's CA certificates: " + tls_error);
  }
  delivery::RemoteOptions remote = remote_options(*cfg_);
  remote.metrics = &delivery_metrics_;
  remote.destination_metrics = &destination_metrics_;
  remote_courier_ = std::make_unique<delivery::RemoteCourier>(io_.get_executor(), *dns_,
                                                              std::move(remote), client_tls);
  queue::Queue::Options opts = queue_options(*cfg_);
  opts.metrics = &delivery_metrics_;
  opts.log = &delivery_log_;  // the console's delivery log (start_console_backend)
  // The DSN hook runs on the I/O thread and must not block: the bounce is its own coroutine.
  opts.on_failed = [this](const queue::Envelope& env,
                          const std::vector<const queue::Recipient*>& failed,
                          std::string_view message) {
    BounceDeps deps{store_.get(),   queue_.get(),     domains_.get(),    &pool_,
                    cfg_->hostname, dkim_keys_.get(), dkim_signer_.get()};
    deps.sent = &ops_.dsn_failure;
    std::vector<queue::Recipient> copies;
    for (const queue::Recipient* r : failed) {
      copies.push_back(*r);
    }
    asio::co_spawn(io_, send_bounce(deps, env, std::move(copies), std::string(message)),
                   [](std::exception_ptr e) { base::log_internal_error(e, "bounce"); });
  };
  // The delay warning takes the bounce's way, on the I/O thread too.
  opts.on_delayed = [this](const queue::Envelope& env,
                           const std::vector<const queue::Recipient*>& pending,
                           queue::TimePoint retry_until, std::string_view message) {
    BounceDeps deps{store_.get(),   queue_.get(),     domains_.get(),    &pool_,
                    cfg_->hostname, dkim_keys_.get(), dkim_signer_.get()};
    deps.sent = &ops_.dsn_delay;
    std::vector<queue::Recipient> copies;
    for (const queue::Recipient* r : pending) {
      copies.push_back(*r);
    }
    asio::co_spawn(
        io_,
        send_delay_warning(deps, env, std::move(copies),
                           std::chrono::system_clock::to_time_t(retry_until), std::string(message)),
        [](std::exception_ptr e) { base::log_internal_error(e, "delay-warning"); });
  };
  queue_ = std::make_unique<queue::Queue>(io_.get_executor(), pool_, *store_, opts, *local_courier_,
                                          remote_courier_.get(), clock_);
  // A destination at its connection limit postpones deliveries; each connection it frees sends
  // one of them at once (docs/delivery.md).
  remote_courier_->set_on_slot_free(
      [q = queue_.get()](const std::string& destination) { q->destination_free(destination); });

  // hikyaku-util queue flush talks to the running daemon through this socket.
  control_ = std::make_unique<ControlServer>(
      io_.get_executor(), cfg_->data_dir / "control.sock",
      [this](const std::string& id) {
        if (!id.empty() && !std::filesystem::exists(store_->message_path(id))) {
          return false;  // Queue::flush would schedule an unknown id; refuse it here
        }
        queue_->flush(id);
        return true;
      },
      [this] { return status_json(); });
  ops_.start_time.set(
      std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count());
  start_capture();
  start_console_backend();

  Deps deps;
  deps.cfg = cfg_.get();
  deps.live_cfg = &cfg_;
  deps.drain = &drain_;
  deps.domains = domains_.get();
  deps.certs = certs_.get();
  deps.store = store_.get();
  deps.queue = queue_.get();
  deps.pool = &pool_;
  deps.metrics = &metrics_;
  deps.dns = dns_.get();
  deps.dkim_keys = dkim_keys_.get();
  deps.dkim_signer = dkim_signer_.get();
  deps.srs = srs_.get();
  deps.psl = psl_.get();
  deps.abuse = &abuse_;
  deps.auth_cache = &auth_cache_;
  deps.counts = &counts_;
  deps.capture = capture_.get();
  auto add = [&](const std::vector<config::Endpoint>& eps, Port kind) {
    for (const auto& ep : eps) {
      listeners_.push_back(
          std::make_unique<Listener>(io_.get_executor(), ep.host, ep.port, kind, deps, counts_));
    }
  };
  if (!cfg_->listen.submission_tls.empty() && !certs_->has_tls()) {
    throw std::runtime_error("listen.submission_tls needs a certificate in " +
                             cfg_->certs_dir().string() + "/<hostname>/");
  }
  add(cfg_->listen.smtp, Port::Smtp);
  add(cfg_->listen.submission, Port::Submission);
  add(cfg_->listen.submission_tls, Port::SubmissionTls);
  // The gauges are sampled when the page is built, on the I/O thread that owns what they count.
  auto scrape = [this] {
    metrics_.queue_size.set(static_cast<int64_t>(queue_->size()));
    metrics_.connections.set(static_cast<int64_t>(counts_.total));
    std::optional<queue::TimePoint> oldest = queue_->oldest();
    ops_.queue_oldest_age.set(
        oldest ? std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now() - *oldest)
                                          .count())
               : 0);
    return registry_.render();
  };
  for (const auto& ep : cfg_->listen.metrics) {
    metrics_endpoints_.push_back(
        std::make_unique<metrics::Endpoint>(io_.get_executor(), ep.host, ep.port, scrape));
  }
  make_console();
  // Every port is bound: root, if we had it, is no longer needed.
  drop_privileges();
}

// ---- capture mode (docs/capture.md) ----
// Opens DATA_DIR/capture when [capture] enabled: released messages go into our queue and are
// handed to its runner.
void Server::start_capture() {
  if (!cfg_->capture.enabled) {
    return;
  }
  capture::CaptureStore::Options options;
  options.max_messages = cfg_->capture.max_messages;
  capture_ = std::make_unique<capture::CaptureStore>(
      io_.get_executor(), cfg_->data_dir / "capture", options, *store_,
      [q = queue_.get()](queue::Envelope env) { q->enqueued(std::move(env)); });
  // Released to other addresses: local ones are resolved as at RCPT (aliases, catch-all) and
  // delivered to their Maildirs; a local address nobody has is refused, as RCPT would be.
  capture_->set_recipient_resolver([this](const std::string& address, std::string& error) {
    return resolve_release_rcpt(*domains_->current(), cfg_->hostname, address, error);
  });
  base::log_info() << "capture enabled=true dir=" << (cfg_->data_dir / "capture").string()
                   << " messages=" << capture_->size()
                   << " max_messages=" << cfg_->capture.max_messages
                   << " deliver=" << cfg_->capture.deliver.size();
}
// ---- end of capture mode ----

// ---- the console's view of the daemon (ops: docs/api.md, "hikyaku's own endpoints") ----
void Server::start_console_backend() {
  delivery_log_.set_capacity(cfg_->console.log_events);
  ConsoleBackendDeps deps;
  deps.ex = io_.get_executor();
  deps.pool = &pool_;
  deps.store = store_.get();
  deps.queue = queue_.get();
  deps.log = &delivery_log_;
  deps.live_cfg = &cfg_;
  deps.dns = resolver_.get();  // uncached: check-dns and the relay test show the DNS as it is
  deps.dkim_keys = dkim_keys_.get();
  deps.status = [this] { return status_json(); };
  deps.local_domains = [this] { return domains_->current()->domain_names(); };
  deps.console_addresses = [this] {
    std::vector<std::string> out;
    if (console_) {
      for (const auto& ep : console_->local_endpoints()) {
        out.push_back(ep.address().to_string() + ":" + std::to_string(ep.port()));
      }
    }
    return out;
  };
  console_backend_ = std::make_unique<ConsoleBackend>(std::move(deps));
}
// ---- end of the console's view ----

void Server::drop_privileges() {
  const bool root = ::geteuid() == 0;
  if (cfg_->run_as.empty()) {
    if (root) {
      base::log_warn()
          << "privileges user=root result=warning reason=\"running as root; set run_as "
             "in hikyaku.toml (or User= in the systemd unit)\"";
    }
    return;
  }
  RunAs user = lookup_user(cfg_->run_as);
  if (!root) {
    if (::geteuid() == user.uid) {
      return;  // already that user, e.g. through the systemd unit's User=
    }
    throw std::runtime_error("run_as = \"" + user.name + "\" needs the daemon started as root " +
                             "(it runs as uid " + std::to_string(::geteuid()) + ")");
  }
  hand_over(cfg_->data_dir, user);
  // Handing srs.key over changed its ctime, which the reload check would take for an edit and
  // log as a reload a moment after the start: take the new fingerprint now (same key).
  srs_->reload_if_changed();
  drop_to(user);
  base::log_info() << "privileges run_as=" << base::log_quote(user.name) << " uid=" << user.uid
                   << " gid=" << user.gid << " result=dropped";
}

Server::~Server() {
  // The courier outlives the queue (declared before it): no call may reach the queue after it.
  if (remote_courier_) {
    remote_courier_->set_on_slot_free(nullptr);
  }
}

namespace {

// A load balancer that is also in trusted_networks passes that trust on to what it sends without
// a client address (v1 UNKNOWN, v2 LOCAL: its own health checks, or a misconfigured frontend).
// Allowed (a balancer on the same host under the default 127.0.0.0/8), but worth a line.
void warn_proxy_trusted_overlap(const config::Config& cfg) {
  for (const config::Cidr& proxy : cfg.proxy_networks) {
    for (const config::Cidr& trusted : cfg.trusted_networks) {
      if (proxy.contains(trusted.net) || trusted.contains(proxy.net)) {
        base::log_warn() << "config key=proxy_networks network=" << proxy.str()
                         << " trusted_network=" << trusted.str()
                         << " result=warning reason=\"a balancer in trusted_networks may relay "
                            "through connections without a client address (PROXY v1 UNKNOWN, "
                            "v2 LOCAL)\"";
      }
    }
  }
}

}  // namespace

void Server::run() {
  base::log_info() << "hikyaku " << HK_VERSION << " starting hostname=" << cfg_->hostname
                   << " config=" << cfg_->file.string() << " data=" << cfg_->data_dir.string()
                   << " domains=" << domains_->current()->domain_names().size()
                   << " tls=" << (certs_->has_tls() ? "yes" : "no");
  warn_proxy_trusted_overlap(*cfg_);
  check_cert_expiry();
  base::log_info() << "srs enabled=" << config::to_string(cfg_->srs.enabled)
                   << " domain=" << (cfg_->srs.domain.empty() ? "<alias domain>" : cfg_->srs.domain)
                   << " key=" << srs_->path().string()
                   << (srs_->created() ? " result=key-created" : " result=key-loaded");
  for (auto& l : listeners_) {
    base::log_info() << "listening " << port_name(l->kind()) << "=" << l->local_address();
    asio::co_spawn(io_, l->accept_loop(),
                   [](std::exception_ptr e) { base::log_internal_error(e, "listener"); });
  }
  for (auto& m : metrics_endpoints_) {
    base::log_info() << "listening metrics=" << m->local_endpoint().address().to_string() << ":"
                     << m->local_endpoint().port();
    asio::co_spawn(io_, m->run(),
                   [](std::exception_ptr e) { base::log_internal_error(e, "metrics"); });
  }
  if (console_) {
    for (const auto& ep : console_->local_endpoints()) {
      base::log_info() << "listening console=" << ep.address().to_string() << ":" << ep.port();
    }
    console_->start();
  }
  base::log_info() << "listening control=" << control_->path().string();
  asio::co_spawn(io_, control_->run(),
                 [](std::exception_ptr e) { base::log_internal_error(e, "control"); });
  asio::co_spawn(io_, signals(),
                 [](std::exception_ptr e) { base::log_internal_error(e, "signals"); });
  asio::co_spawn(io_, reload_loop(),
                 [](std::exception_ptr e) { base::log_internal_error(e, "reload"); });
  asio::co_spawn(io_, queue_->recover(),
                 [](std::exception_ptr e) { base::log_internal_error(e, "queue"); });
  asio::co_spawn(io_, queue_->run(), [this](std::exception_ptr e) {
    base::log_internal_error(e, "queue");
    queue_stopped_ = true;
  });
  notify_ready("serving");
  io_.run();
  pool_.join();
  base::log_info() << "hikyaku stopped";
}

void Server::stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  notify_stopping();
  base::log_info() << "hikyaku stopping sessions=" << counts_.total
                   << " deliveries=" << queue_->in_flight()
                   << " grace=" << cfg_->limits.shutdown_grace.count() << "s";
  for (auto& l : listeners_) {
    l->close();
  }
  for (auto& m : metrics_endpoints_) {
    m->close();
  }
  if (console_) {
    console_->close();
  }
  control_->close();
  queue_->stop();
  drain_.start();
  asio::co_spawn(io_, drain(), [this](std::exception_ptr e) {
    base::log_internal_error(e, "shutdown");
    io_.stop();
  });
}

asio::awaitable<bool> Server::wait_drained(std::chrono::steady_clock::time_point end) {
  asio::steady_timer timer(io_);
  while (counts_.total > 0 || !queue_stopped_ || (console_ && console_->open_connections() > 0)) {
    if (std::chrono::steady_clock::now() >= end) {
      co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
  }
  co_return true;
}

asio::awaitable<void> Server::drain() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  bool done = co_await wait_drained(start + cfg_->limits.shutdown_grace);
  if (!done) {
    // The grace is over. Deliveries are cut only at a safe point (RemoteCourier::abandon), and
    // given a moment to record what they got; sessions still in DATA are closed without a reply,
    // so their clients keep the message and try again. Every coroutine ends before the I/O
    // context stops, so none is destroyed midway with the Server's parts already gone.
    base::log_warn() << "hikyaku stopping result=grace-over sessions=" << counts_.total
                     << " deliveries=" << queue_->in_flight();
    remote_courier_->abandon();
    drain_.cut();
    done = co_await wait_drained(Clock::now() + std::chrono::seconds(5));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  base::log_info() << "hikyaku drained result=" << (done ? "clean" : "cut")
                   << " sessions=" << counts_.total << " ms=" << took.count();
}

asio::awaitable<void> Server::signals() {
  asio::signal_set sigs(io_, SIGTERM, SIGINT, SIGHUP);
  for (;;) {
    auto [ec, sig] = co_await sigs.async_wait(kTuple);
    if (ec) {
      co_return;
    }
    if (stopping_) {
      if (sig != SIGHUP) {
        base::log_warn() << "hikyaku stopping result=forced reason=second-signal";
        io_.stop();  // a second SIGTERM/SIGINT: do not wait any longer
      }
      continue;
    }
    if (sig == SIGHUP) {
      base::log_info() << "reload reason=SIGHUP";
      notify_reloading();
      reload_config();
      reload(true);
      notify_ready("serving");
      continue;
    }
    stop();
  }
}

void Server::reload_config() {
  config::Config loaded;
  try {
    loaded = config::load_config(cfg_->config_dir);
  } catch (const config::ConfigError& e) {
    // The message is "FILE:LINE: KEY: why"; the running configuration stays in force.
    base::log_error() << "reload what=config result=kept-old error=" << base::log_quote(e.what());
    metrics_.reload_errors_config.inc();
    note_reload(ReloadWhat::Config, e.what());
    return;
  }
  std::vector<config::KeyChange> changes = config::diff_config(*cfg_, loaded);
  if (changes.empty()) {
    base::log_info() << "reload what=config result=unchanged";
    note_reload(ReloadWhat::Config, "");
    return;
  }
  for (const config::KeyChange& c : changes) {
    if (c.needs_restart) {
      base::log_warn() << "reload what=config key=" << c.key << " result=needs-restart";
    } else {
      base::log_info() << "reload what=config key=" << c.key << " result=ok";
    }
  }
  config::Config applied = config::keep_restart_keys(*cfg_, std::move(loaded));
  bool dns_failed = false;
  if (applied.dns != cfg_->dns) {
    try {
      resolver_->reconfigure(dns_options(applied));
    } catch (const std::exception& e) {
      base::log_error() << "reload what=config key=dns result=kept-old error="
                        << base::log_quote(e.what());
      metrics_.reload_errors_config.inc();
      note_reload(ReloadWhat::Config, std::string("dns: ") + e.what());
      dns_failed = true;
      applied.dns = cfg_->dns;
    }
  }
  if (!dns_failed) {
    note_reload(ReloadWhat::Config, "");
  }
  // New sessions take it from cfg_ (Deps::live_cfg); sessions in progress keep theirs.
  cfg_ = std::make_shared<const config::Config>(std::move(applied));
  base::set_log_level(cfg_->log_level);
  warn_proxy_trusted_overlap(*cfg_);
  queue_->reconfigure(queue_options(*cfg_));
  remote_courier_->reconfigure(remote_options(*cfg_));
  auth_cache_.configure(cfg_->auth.cache_ttl, cfg_->auth.cache_size);
  // Capture mode: a new limit applies at once; deliver is read by each new session.
  if (capture_) {
    capture_->reconfigure({.max_messages = cfg_->capture.max_messages});
  }
  delivery_log_.set_capacity(cfg_->console.log_events);  // keeps the newest events
  configure_console();
}

void Server::reload(bool forced) {
  auto cr = forced ? certs_->reload() : certs_->reload_if_changed();
  if (!cr.error.empty()) {
    base::log_error() << "reload what=certs result=kept-old error=" << base::log_quote(cr.error);
    metrics_.reload_errors_certs.inc();
    note_reload(ReloadWhat::Certs, cr.error);
  } else if (cr.changed) {
    base::log_info() << "reload what=certs result=ok";
    note_reload(ReloadWhat::Certs, "");
  }
  if (forced || cr.changed) {
    check_cert_expiry();
  }
  auto kr = dkim_keys_->reload_if_changed();
  if (!kr.error.empty()) {
    base::log_error() << "reload what=dkim result=kept-old error=" << base::log_quote(kr.error);
    metrics_.reload_errors_dkim.inc();
    note_reload(ReloadWhat::Dkim, kr.error);
  } else if (kr.changed) {
    base::log_info() << "reload what=dkim result=ok";
    note_reload(ReloadWhat::Dkim, "");
  }
  auto sr = srs_->reload_if_changed();
  if (!sr.error.empty()) {
    base::log_error() << "reload what=srs result=kept-old error=" << base::log_quote(sr.error);
    metrics_.reload_errors_srs.inc();
    note_reload(ReloadWhat::Srs, sr.error);
  } else if (sr.changed) {
    base::log_info() << "reload what=srs result=ok";
    note_reload(ReloadWhat::Srs, "");
  }
  auto dr = domains_->reload_if_changed();
  if (!dr.error.empty()) {
    base::log_error() << "reload what=domains result=kept-old error=" << base::log_quote(dr.error);
    metrics_.reload_errors_domains.inc();
    note_reload(ReloadWhat::Domains, dr.error);
  } else if (dr.changed) {
    base::log_info() << "reload what=domains result=ok";
    note_reload(ReloadWhat::Domains, "");
  }
}

void Server::note_reload(ReloadWhat what, const std::string& error) {
  ops_.reload(what, error.empty());
  std::optional<ReloadError>& last = reload_errors_[static_cast<size_t>(what)];
  if (!error.empty()) {
    last = ReloadError{to_string(what), std::chrono::system_clock::now(), error, false};
  } else if (last) {
    last->resolved = true;
  }
}

void Server::check_cert_expiry() {
  std::vector<certs::CertInfo> infos = certs_->info();
  certs::log_expiry(infos, std::chrono::system_clock::now());
  std::vector<std::pair<std::string, int64_t>> values;
  for (const certs::CertInfo& c : infos) {
    values.emplace_back(
        c.folder,
        std::chrono::duration_cast<std::chrono::seconds>(c.not_after.time_since_epoch()).count());
  }
  ops_.cert_expiry.replace(std::move(values));
  expiry_checked_ = std::chrono::steady_clock::now();
}

std::array<uint64_t, 5> Server::delivery_totals() const {
  const queue::DeliveryMetrics& d = delivery_metrics_;
  return {d.maildir.delivered.value() + d.mx.delivered.value() + d.relay.delivered.value(),
          d.maildir.deferred.value() + d.mx.deferred.value() + d.relay.deferred.value(),
          d.maildir.bounced.value() + d.mx.bounced.value() + d.relay.bounced.value(),
          d.expired.value(), ops_.dsn_failure.value() + ops_.dsn_delay.value()};
}

std::string Server::status_json() {
  StatusInput in;
  in.version = HK_VERSION;
  in.hostname = cfg_->hostname;
  in.started = started_;
  in.now = std::chrono::system_clock::now();
  for (const auto& l : listeners_) {
    in.listeners.push_back({port_name(l->kind()), l->local_address()});
  }
  for (const auto& m : metrics_endpoints_) {
    in.listeners.push_back({"metrics", m->local_endpoint().address().to_string() + ":" +
                                           std::to_string(m->local_endpoint().port())});
  }
  if (console_) {
    for (const auto& ep : console_->local_endpoints()) {
      in.listeners.push_back(
          {"console", ep.address().to_string() + ":" + std::to_string(ep.port())});
    }
  }
  in.listeners.push_back({"control", control_->path().string()});
  in.queue_messages = queue_->size();
  in.queue_in_flight = queue_->in_flight();
  in.queue_oldest = queue_->oldest();
  recent_.record(in.now, delivery_totals());
  auto hour = recent_.last_hour(in.now);
  in.delivered = hour[0];
  in.deferred = hour[1];
  in.bounced = hour[2];
  in.expired = hour[3];
  in.dsn_sent = hour[4];
  in.certificates = certs_->info();
  for (const auto& e : reload_errors_) {
    if (e) {
      in.reload_errors.push_back(*e);
    }
  }
  return server::status_json(in);
}

asio::awaitable<void> Server::reload_loop() {
  asio::steady_timer timer(io_);
  while (!stopping_) {
    timer.expires_after(kReloadPeriod);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec || stopping_) {
      co_return;
    }
    reload(false);
    recent_.record(std::chrono::system_clock::now(), delivery_totals());
    // While a certificate stays close to its end, the warning comes back once a day.
    if (std::chrono::steady_clock::now() - expiry_checked_ >= std::chrono::hours(24)) {
      check_cert_expiry();
    }
  }
}

}  // namespace hk::server

// --- console: the web console's wiring (daemon/console/console_server.hpp) ---
namespace hk::server {

namespace {

// What of hikyaku.toml the console takes, at start and at each reload.
console::ConsoleServer::Settings console_settings(const config::Config& cfg) {
  console::ConsoleServer::Settings s;
  s.password_file = cfg.console.password_file;  // made absolute by the config parser
  s.hostnames = cfg.console.hostnames;
  s.hostnames.push_back(cfg.hostname);
  for (const auto& ep : cfg.listen.console) {
    s.hostnames.push_back(ep.host);  // a wildcard address names nothing a client would send
  }
  s.auth_cache_ttl = cfg.auth.cache_ttl;
  s.auth_cache_size = cfg.auth.cache_size;
  return s;
}

}  // namespace

void Server::configure_console() {
  if (console_) {
    console_->configure(console_settings(*cfg_));
  }
}

void Server::make_console() {
  if (cfg_->listen.console.empty()) {
    return;
  }
  console::Router router;
  console::add_mailpit_api(router, capture_.get());  // null when capture mode is off
  console::add_ops_api(router, *console_backend_);
  console::add_pages(router);
  console::ConsoleServer::Hooks hooks;
  hooks.tls = [this] { return certs_->context(); };
  hooks.banned = [this](const asio::ip::address& client) { return abuse_.auth_banned(client); };
  // Counted with failed SMTP AUTH (same address table); the user name keeps its own count.
  hooks.auth_failed = [this](const asio::ip::address& client) {
    return abuse_.auth_failed(client, "console:admin", false, cfg_->limits);
  };
  std::vector<console::ConsoleServer::Address> listen;
  for (const auto& ep : cfg_->listen.console) {
    listen.push_back({ep.host, ep.port});
  }
  console_ =
      std::make_unique<console::ConsoleServer>(io_.get_executor(), pool_, listen, std::move(router),
                                               std::move(hooks), console_settings(*cfg_));
}

}  // namespace hk::server
// --- end console ---
