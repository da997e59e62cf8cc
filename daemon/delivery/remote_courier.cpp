// MX and smart-host delivery.
#include "daemon/delivery/remote_courier.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "lib/base/ascii.hpp"
#include "lib/base/log.hpp"
#include "lib/dns/error.hpp"
#include "lib/dns/host_addresses.hpp"
#include "lib/dns/lookup.hpp"
#include "lib/dns/mx.hpp"
#include "lib/smtp/tls_required.hpp"

namespace hk::delivery {

namespace asio = boost::asio;
using queue::DeliveryResult;
using Status = queue::DeliveryResult::Status;

namespace {

std::string domain_of(const std::string& address) {
  return base::to_lower(std::string_view(address).substr(address.rfind('@') + 1));
}

std::vector<DeliveryResult> all(size_t n, const DeliveryResult& r) {
  return std::vector<DeliveryResult>(n, r);
}

TlsMode tls_mode(config::RelayTls t) {
  switch (t) {
    case config::RelayTls::StartTls:
      return TlsMode::Required;
    case config::RelayTls::Implicit:
      return TlsMode::Implicit;
    case config::RelayTls::None:
      return TlsMode::None;
  }
  return TlsMode::Required;
}

// RFC 8689 §5: when no host could take a REQUIRETLS message (`refusal`, 550 5.7.30), it is
// returned. While another host was only unreachable, that one may still qualify: the message
// waits and is tried again instead.
DeliveryResult requiretls_outcome(const DeliveryResult& refusal, bool unreachable,
                                  const DeliveryResult& last_error) {
  if (!unreachable) {
    return refusal;
  }
  return {Status::Transient, 451, "4.4.1",
          "REQUIRETLS: " + refusal.text + "; another host was not reachable (" + last_error.line() +
              ")"};
}

// The source addresses of `opts` that this host has; the others are named in `problem`.
std::string sources_problem(const RemoteOptions& opts) {
  std::string problem;
  for (const auto& source : {opts.source_v4, opts.source_v6}) {
    if (source) {
      std::string why = source_address_problem(*source);
      problem += (problem.empty() || why.empty() ? "" : "; ") + why;
    }
  }
  return problem;
}

}  // namespace

std::string source_address_problem(const asio::ip::address& source) {
  // A trial bind: what connect() will do before each delivery.
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  boost::system::error_code ec;
  sock.open(source.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) {
    sock.bind(asio::ip::tcp::endpoint(source, 0), ec);
  }
  if (!ec) {
    return "";
  }
  return "cannot send from " + source.to_string() + ": " + ec.message() +
         (ec == boost::system::errc::address_not_available ? " (not an address of this host)" : "");
}

RemoteCourier::RemoteCourier(asio::any_io_executor ex, dns::Lookup& dns, RemoteOptions opts,
                             std::shared_ptr<asio::ssl::context> tls)
    : ex_(std::move(ex)),
      dns_(dns),
      opts_(std::move(opts)),
      tls_(std::move(tls)),
      rng_(std::random_device{}()),
      cache_(ex_, ConnectionLimits{opts_.reuse_idle, opts_.reuse_lifetime,
                                   opts_.reuse_max_transactions, opts_.reuse_max_parked}),
      tls_memory_(opts_.tls_memory_dir),
      relays_(std::make_shared<const std::vector<config::Relay>>(opts_.relays)) {
  if (std::string problem = sources_problem(opts_); !problem.empty()) {
    throw std::runtime_error("[delivery] source address: " + problem);
  }
  destinations_ = std::make_unique<Destinations>(
      ex_, clock_, opts_.shaping, opts_.destinations_file, opts_.destination_metrics);
  if (opts_.mta_sts) {
    sts_ = std::make_unique<MtaSts>(
        ex_, dns_, tls_, StsOptions{opts_.mta_sts_dir, opts_.mta_sts_port, opts_.mta_sts_timeout},
        clock_);
  }
}

RemoteCourier::~RemoteCourier() = default;

void RemoteCourier::reconfigure(const RemoteOptions& opts) {
  relays_ = std::make_shared<const std::vector<config::Relay>>(opts.relays);
  opts_.relays = opts.relays;
  opts_.mta_sts = opts.mta_sts;
  opts_.dane = opts.dane;
  opts_.ip_version = opts.ip_version;
  opts_.prefer = opts.prefer;
  opts_.helo_name = opts.helo_name;
  if (std::string problem = sources_problem(opts); !problem.empty()) {
    base::log_error() << "reload: [delivery] source address kept: " << base::log_quote(problem);
  } else {
    opts_.source_v4 = opts.source_v4;
    opts_.source_v6 = opts.source_v6;
  }
  opts_.shaping = opts.shaping;
  opts_.reuse_max_transactions = opts.reuse_max_transactions;
  cache_.set_limits(ConnectionLimits{opts_.reuse_idle, opts_.reuse_lifetime,
                                     opts_.reuse_max_transactions, opts_.reuse_max_parked});
  destinations_->reconfigure(opts.shaping);
  if (opts_.mta_sts && !sts_) {
    sts_ = std::make_unique<MtaSts>(
        ex_, dns_, tls_, StsOptions{opts_.mta_sts_dir, opts_.mta_sts_port, opts_.mta_sts_timeout},
        clock_);
  }
}

void RemoteCourier::set_on_slot_free(std::function<void(const std::string&)> f) {
  destinations_->on_free = std::move(f);
}

void RemoteCourier::abandon() {
  abandoned_ = true;
  for (SmtpClient* c : active_) {
    c->abort();
  }
}

namespace {

// Marks a client as in use for RemoteCourier::abandon() while it lives.
class InUse {
 public:
  InUse(std::unordered_set<SmtpClient*>& set, SmtpClient* c) : set_(set), c_(c) { set_.insert(c); }
  ~InUse() { set_.erase(c_); }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;

 private:
  std::unordered_set<SmtpClient*>& set_;
  SmtpClient* c_;
};

}  // namespace

ClientOptions RemoteCourier::client_options(const std::string& tls_name) const {
  ClientOptions opts;
  opts.helo_name = opts_.helo_name.empty() ? opts_.hostname : opts_.helo_name;
  opts.source_v4 = opts_.source_v4;
  opts.source_v6 = opts_.source_v6;
  opts.tls_name = tls_name;
  opts.tls_context = tls_;
  opts.connect_timeout = opts_.connect_timeout;
  opts.command_timeout = opts_.command_timeout;
  opts.data_timeout = opts_.data_timeout;
  return opts;
}

const config::Relay* RemoteCourier::relay_for(const std::string& domain) const {
  for (const auto& r : *relays_) {
    if (r.domains.empty() ||
        std::find(r.domains.begin(), r.domains.end(), domain) != r.domains.end()) {
      return &r;
    }
  }
  return nullptr;
}

queue::Route RemoteCourier::route(const queue::Recipient& rcpt) const {
  return relay_for(domain_of(rcpt.address)) != nullptr ? queue::Route::Relay : queue::Route::Mx;
}

asio::awaitable<std::vector<DeliveryResult>> RemoteCourier::deliver(
    const queue::Envelope& env, const std::vector<const queue::Recipient*>& rcpts,
    const std::string& message) {
  // One transaction per destination domain (or per relay route) and reverse-path, in recipient
  // order: a forwarded recipient may have its own, SRS-rewritten sender (Recipient::sender).
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < rcpts.size(); ++i) {
    std::string domain = domain_of(rcpts[i]->address);
    const std::string& sender = rcpts[i]->sender.empty() ? env.from : rcpts[i]->sender;
    groups[{relay_for(domain) != nullptr ? "relay:" + domain : domain, sender}].push_back(i);
  }
  std::vector<DeliveryResult> results(rcpts.size(), {Status::Transient, 0, "", "not attempted"});
  for (const auto& [group, index] : groups) {
    const std::string& key = group.first;
    // The transaction's MAIL FROM is env.from; a rewritten sender goes in a copy.
    std::optional<queue::Envelope> rewritten;
    if (group.second != env.from) {
      rewritten = env;
      rewritten->from = group.second;
    }
    const queue::Envelope& sent = rewritten ? *rewritten : env;
    std::vector<std::string> to;
    for (size_t i : index) {
      to.push_back(rcpts[i]->address);
    }
    bool relay = key.rfind("relay:", 0) == 0;
    auto start = std::chrono::steady_clock::now();
    // Named first: GCC 12 destroys a temporary made inside a co_await expression twice.
    const std::string domain = relay ? key.substr(6) : key;
    std::vector<DeliveryResult> got = co_await shaped(sent, domain, relay, to, message);
    bool tried = got.empty() || !got.front().postponed();
    if (opts_.metrics != nullptr && tried) {
      (relay ? opts_.metrics->relay : opts_.metrics->mx)
          .record(got, std::chrono::steady_clock::now() - start);
      (relay ? opts_.metrics->relay_remote : opts_.metrics->mx_remote).record_replies(got);
    }
    for (size_t k = 0; k < index.size() && k < got.size(); ++k) {
      results[index[k]] = std::move(got[k]);
    }
  }
  co_return results;
}

asio::awaitable<std::vector<asio::ip::address>> RemoteCourier::addresses(const std::string& host) {
  // The families [delivery] ip_version allows, the one it prefers first (IPv4 by default, since
  // big receivers judge IPv6 senders more strictly). `hikyaku-util test-relay` resolves the same
  // way (dns::host_addresses).
  const dns::AddressChoice choice{opts_.ip_version != config::IpVersion::V6,
                                  opts_.ip_version != config::IpVersion::V4,
                                  opts_.prefer == config::IpPrefer::V4};
  dns::HostAddresses found = co_await dns::host_addresses(dns_, host, choice);
  co_return std::move(found.addrs);
}

asio::awaitable<std::optional<TransactionResult>> RemoteCourier::try_addresses(
    ClientOptions opts, const std::vector<asio::ip::address>& addrs, uint16_t port,
    const queue::Envelope& env, const std::vector<std::string>& to, const std::string& message,
    DeliveryResult& error) {
  for (const auto& addr : addrs) {
    if (abandoned_) {
      error = {Status::Transient, 421, "4.3.2", "delivery abandoned: the server is stopping"};
      co_return std::nullopt;
    }
    // [delivery] max_connections_per_host, for MX addresses (which many domains may share); a
    // smart host is one destination, limited as a whole. An address that stays full is skipped,
    // and when none is left the destination is postponed rather than tried.
    const std::string address = addr.to_string();
    const bool mx = relay_for(domain_of(to.front())) == nullptr;
    Destinations::Slot host_slot;
    if (mx) {
      host_slot = co_await destinations_->host_slot(address);
    }
    if (mx && !host_slot) {
      error = {Status::Transient, 0, "", addr.to_string() + " is at its connection limit"};
      error.postponed_until = clock_.now() + opts_.shaping.busy_retry;
      base::log_debug() << "id=" << env.id << " peer=" << addr.to_string() << " result=host-busy";
      continue;
    }
    ConnectionKey key{asio::ip::tcp::endpoint(addr, port), opts.tls, opts.tls_name, opts.username,
                      opts.password};
    // Only the address whose turn it is: a parked session to a less preferred MX must not jump
    // ahead of a more preferred one (RFC 5321 §5.1).
    if (std::optional<CachedClient> parked = cache_.take(key)) {
      base::log_debug() << "id=" << env.id << " peer=" << parked->client->peer()
                        << " name=" << opts.tls_name
                        << " connection=reused transactions=" << parked->transactions;
      InUse in_use(active_, parked->client.get());
      TransactionResult r = co_await parked->client->send(env.from, to, message, env.smtputf8,
                                                          env.eightbit, env.requiretls);
      ++parked->transactions;
      if (!r.failed_before_rcpt) {
        // A 421 on a parked session is usually the server's idle timeout (RFC 5321 §4.5.3.2.7),
        // no request to slow down: only what follows on this session is judged.
        for (const DeliveryResult& each : r.rcpts) {
          observe(env, to, each);
        }
        finish(std::move(*parked), env, r);
        co_return r;
      }
      // The server dropped the session just as the transaction began (its idle timer racing
      // ours): nothing was delivered, so the transaction is repeated, once, on a fresh
      // connection, and this attempt is no failure of the message.
      base::log_debug() << "id=" << env.id << " peer=" << parked->client->peer()
                        << " result=reused-connection-lost error="
                        << base::log_quote(parked->client->last_error());
    }
    CachedClient fresh{std::make_unique<SmtpClient>(ex_, opts), key, {}, {}, 0};
    InUse in_use(active_, fresh.client.get());
    auto ec = co_await fresh.client->connect(key.peer);
    if (ec) {
      error = fresh.client->failure();
      observe(env, to, error);
      base::log_info() << "delivery peer=" << addr.to_string() << " name=" << opts.tls_name
                       << " result=connect-failed error=" << base::log_quote(error.line());
      if (error.status == Status::Permanent) {
        co_return std::nullopt;  // e.g. AUTH refused: the same at every address
      }
      continue;
    }
    fresh.opened = CachedClient::Clock::now();
    TransactionResult r = co_await fresh.client->send(env.from, to, message, env.smtputf8,
                                                      env.eightbit, env.requiretls);
    ++fresh.transactions;
    for (const DeliveryResult& each : r.rcpts) {
      observe(env, to, each);
    }
    finish(std::move(fresh), env, r);
    co_return r;
  }
  co_return std::nullopt;
}

void RemoteCourier::count_tls(bool relay, TlsResult tls, bool sts_enforced) const {
  if (opts_.metrics == nullptr) {
    return;
  }
  queue::TlsLevel level = queue::TlsLevel::Plain;
  switch (tls) {
    case TlsResult::Plain:
      level = queue::TlsLevel::Plain;
      break;
    case TlsResult::Unverified:
      level = queue::TlsLevel::Unverified;
      break;
    case TlsResult::Verified:
      // RFC 8461 §5: under a policy in mode enforce the session was verified against the policy's
      // MX names, the level an operator asks about for MTA-STS.
      level = sts_enforced ? queue::TlsLevel::MtaSts : queue::TlsLevel::Verified;
      break;
    case TlsResult::Dane:
      level = queue::TlsLevel::Dane;  // DANE over MTA-STS (RFC 8461 §2, tls_policy.hpp)
      break;
  }
  (relay ? opts_.metrics->relay_remote : opts_.metrics->mx_remote).transaction(level);
}

void RemoteCourier::finish(CachedClient c, const queue::Envelope& env, const TransactionResult& r) {
  base::log_info() << "id=" << env.id << " peer=" << r.peer << " name=" << c.key.tls_name
                   << " tls=" << to_string(r.tls) << (r.tls_version.empty() ? "" : " tls_version=")
                   << r.tls_version
                   << (c.client->tls_fallback().empty() ? "" : " tls_fallback=plaintext reason=")
                   << (c.client->tls_fallback().empty()
                           ? std::string()
                           : base::log_quote(c.client->tls_fallback()));
  cache_.put(std::move(c));
}

namespace {

std::string watch_key(const std::string& id, const std::string& domain) {
  return id + " " + domain;
}

}  // namespace

void RemoteCourier::observe(const queue::Envelope& env, const std::vector<std::string>& to,
                            const DeliveryResult& r) {
  // Only replies of the remote server count (our own texts have no code), and only the first.
  if (to.empty() || r.code == 0 || !is_throttle_reply(r.code, r.enhanced)) {
    return;
  }
  auto it = watches_.find(watch_key(env.id, domain_of(to.front())));
  if (it != watches_.end() && !it->second->has_value()) {
    *it->second = r;
  }
}

asio::awaitable<std::vector<DeliveryResult>> RemoteCourier::shaped(
    const queue::Envelope& env, const std::string& domain, bool relay,
    const std::vector<std::string>& to, const std::string& message) {
  // A smart host is one destination for all the domains it carries.
  const config::Relay* r = relay ? relay_for(domain) : nullptr;
  const std::string destination = r != nullptr ? "relay:" + r->host : domain;
  Destinations::Admission admission = co_await destinations_->admit(destination);
  if (!admission.slot) {
    base::log_debug() << "id=" << env.id << " destination=" << destination
                      << " result=postponed reason=" << base::log_quote(admission.postponed.text);
    co_return all(to.size(), admission.postponed);
  }
  const base::TimePoint started = clock_.now();
  std::optional<DeliveryResult> throttle;
  const std::string key = watch_key(env.id, domain);
  watches_[key] = &throttle;
  std::vector<DeliveryResult> got;
  if (relay) {
    got = co_await by_relay(env, to, message);
  } else {
    got = co_await by_mx(env, domain, to, message);
  }
  watches_.erase(key);
  admission.slot.release();
  if (abandoned_) {
    co_return got;  // our own stop, not the destination's answer
  }
  if (throttle) {
    destinations_->throttled(destination, started, throttle->line());
  } else if (std::any_of(got.begin(), got.end(), [](const DeliveryResult& each) {
               return each.status == Status::Delivered;
             })) {
    destinations_->succeeded(destination, started);
  }
  co_return got;
}

asio::awaitable<std::vector<DeliveryResult>> RemoteCourier::by_mx(
    const queue::Envelope& env, const std::string& domain, const std::vector<std::string>& to,
    const std::string& message) {
  auto answer = co_await dns_.mx(domain);
  dns::MxTargets targets = dns::mx_targets(answer, domain, rng_);
  switch (targets.plan) {
    case dns::MxPlan::NullMx:
      // RFC 7505 §3: a null MX says the domain accepts no mail.
      co_return all(to.size(),
                    {Status::Permanent, 556, "5.1.10", domain + " does not accept mail (null MX)"});
    case dns::MxPlan::PermanentError:
      co_return all(to.size(), {Status::Permanent, 550, "5.1.2",
                                domain + ": " + answer.ec.message() + " (DNS)"});
    case dns::MxPlan::TransientError:
      co_return all(to.size(), {Status::Transient, 451, "4.4.3",
                                domain + ": MX lookup failed: " + answer.ec.message()});
    case dns::MxPlan::UseMx:
    case dns::MxPlan::ImplicitMx:
      break;
  }
  // RFC 8461 §5: a policy in mode enforce limits delivery to the MX hosts it names, over TLS
  // with a certificate verified for the MX host name; testing only logs what enforce would
  // refuse.
  std::optional<sts::CachedPolicy> policy = co_await sts_policy(env, domain);
  // RFC 8689 §5: "TLS-Required: No" asks that the recipient's TLS policies (MTA-STS, DANE; and
  // so our TLS memory) not stop this message. Ignored with REQUIRETLS (§4.1).
  const bool tls_required_no = !env.requiretls && smtp::tls_required_no(message);
  if (policy && tls_required_no) {
    // RFC 8689 §4.2.2: the sender's "TLS-Required: No" asks that recipient TLS policies not
    // stop this message: STARTTLS stays opportunistic. Ignored with REQUIRETLS (§4.1).
    base::log_info() << "id=" << env.id << " domain=" << domain
                     << " mta_sts=ignored sts_id=" << policy->id << " reason=tls-required-no";
    policy.reset();
  }
  const bool enforce = policy && policy->policy.mode == sts::Mode::Enforce;
  const bool testing = policy && policy->policy.mode == sts::Mode::Testing;
  DeliveryResult error{Status::Transient, 451, "4.4.4", "no address for any MX of " + domain};
  std::optional<DeliveryResult> refusal;  // a REQUIRETLS message refused by an MX
  bool unreachable = false;               // an MX could not be reached
  std::string tls_required_by;  // set once a host required TLS through DANE or the TLS memory
  for (const std::string& host : targets.hosts) {
    if (policy && !sts::mx_allowed(policy->policy, host)) {
      base::log_info() << "id=" << env.id << " domain=" << domain
                       << " mta_sts=" << sts::to_string(policy->policy.mode)
                       << " sts_id=" << policy->id << " mx=" << host
                       << (enforce ? " result=skipped" : " result=would-fail")
                       << " reason=mx-not-in-policy";
      if (enforce) {
        error = {Status::Transient, 451, "4.7.5",
                 "MTA-STS: MX host " + host + " does not match the policy of " + domain};
        continue;
      }
    }
    std::vector<asio::ip::address> addrs = co_await addresses(host);
    if (addrs.empty()) {
      continue;
    }
    // DANE over MTA-STS over the TLS memory over opportunistic STARTTLS (tls_policy.hpp); the
    // connection cache keys sessions by the mode, so a session is only reused under the same.
    // Named, not a temporary in the co_await: GCC 12 mishandles those.
    TlsInputs inputs{opts_.dane && !tls_required_no, answer.authenticated, enforce,
                     tls_required_no ? std::nullopt : tls_memory_.get(domain)};
    TlsPlan plan = co_await plan_tls(dns_, host, std::move(inputs));
    if (!plan.required_by.empty()) {
      tls_required_by = plan.required_by;
    }
    if (plan.reason != "opportunistic") {
      base::log_info() << "id=" << env.id << " domain=" << domain << " mx=" << host
                       << " tls_policy=" << plan.reason
                       << (plan.skip ? " result=skipped error=" : "")
                       << (plan.skip ? base::log_quote(plan.skip->line()) : std::string());
    }
    if (plan.skip) {
      error = *plan.skip;
      continue;
    }
    ClientOptions opts = client_options(host);
    // RFC 3207 §4: STARTTLS whenever the MX offers it; RFC 8461 §4.2 / RFC 7672 §3: verified
    // when a policy, DANE or the memory says so.
    opts.tls = plan.mode;
    opts.tlsa = std::move(plan.tlsa);
    opts.plaintext_retry = plan.mode == TlsMode::Opportunistic;
    auto r = co_await try_addresses(opts, addrs, opts_.mx_port, env, to, message, error);
    if (r && r->requiretls_refused) {
      // RFC 8689 §4.2.1: this MX lacks verified TLS or REQUIRETLS; another may have both.
      refusal = r->rcpts.front();
      continue;
    }
    unreachable = unreachable || !r;
    if (r) {
      if (testing && !is_verified(r->tls)) {
        // RFC 8461 §5: in testing mode the failure is reported (here: logged), not acted on.
        base::log_info() << "id=" << env.id << " domain=" << domain
                         << " mta_sts=testing sts_id=" << policy->id << " mx=" << host
                         << " result=would-fail reason="
                         << (r->tls == TlsResult::Plain ? "no-tls" : "certificate-not-verified");
      }
      remember_tls(tls_memory_, domain, host, r->tls, std::time(nullptr));
      count_tls(false, r->tls, enforce);
      co_return std::move(r->rcpts);
    }
  }
  if (refusal) {
    co_return all(to.size(), requiretls_outcome(*refusal, unreachable, error));
  }
  if (enforce) {
    // No MX host matched the policy and completed verified TLS: the mail waits (RFC 8461 §5:
    // "MUST NOT deliver"), with the last failure for the queue's log and the DSN.
    co_return all(to.size(), {Status::Transient, 451, "4.7.5",
                              "MTA-STS: no MX host with a valid certificate (policy " + policy->id +
                                  " of " + domain + "; last: " + error.line() + ")"});
  }
  if (!tls_required_by.empty()) {
    // RFC 7672 §2.2 and the TLS memory: never a downgrade, the mail waits for TLS.
    co_return all(to.size(), {Status::Transient, 451, "4.7.5",
                              "TLS required for " + domain + " by " + tls_required_by +
                                  " and not obtained (last: " + error.line() + ")"});
  }
  // Every MX failed before a transaction: try again later (RFC 5321 §4.5.4.1).
  if (error.status == Status::Permanent) {
    error.status = Status::Transient;
  }
  co_return all(to.size(), error);
}

asio::awaitable<std::optional<sts::CachedPolicy>> RemoteCourier::sts_policy(
    const queue::Envelope& env, const std::string& domain) {
  if (!opts_.mta_sts || !sts_) {
    co_return std::nullopt;
  }
  std::optional<sts::CachedPolicy> p = co_await sts_->policy(domain);
  if (!p) {
    base::log_debug() << "id=" << env.id << " domain=" << domain << " mta_sts=none";
    co_return std::nullopt;
  }
  base::log_info() << "id=" << env.id << " domain=" << domain
                   << " mta_sts=" << sts::to_string(p->policy.mode) << " sts_id=" << p->id;
  if (p->policy.mode == sts::Mode::None) {
    co_return std::nullopt;  // §5: mode none is as if there were no policy
  }
  co_return p;
}

asio::awaitable<std::vector<DeliveryResult>> RemoteCourier::by_relay(
    const queue::Envelope& env, const std::vector<std::string>& to, const std::string& message) {
  const std::string domain = domain_of(to.front());
  DeliveryResult error{Status::Transient, 451, "4.4.1", "no relay reachable"};
  std::optional<DeliveryResult> refusal;  // a REQUIRETLS message refused by a relay
  bool unreachable = false;               // a relay could not be reached
  // Relays are tried in their configured order (failover); those limited to other domains are
  // skipped. The list is held: a reload meanwhile does not pull it away.
  std::shared_ptr<const std::vector<config::Relay>> relays = relays_;
  for (const auto& relay : *relays) {
    if (!relay.domains.empty() &&
        std::find(relay.domains.begin(), relay.domains.end(), domain) == relay.domains.end()) {
      continue;
    }
    std::vector<asio::ip::address> addrs = co_await addresses(relay.host);
    if (addrs.empty()) {
      error = {Status::Transient, 451, "4.4.3", "relay " + relay.host + " has no address"};
      unreachable = true;
      continue;
    }
    ClientOptions opts = client_options(relay.host);
    opts.tls = tls_mode(relay.tls);
    opts.username = relay.username;
    opts.password = relay.password;
    auto r = co_await try_addresses(opts, addrs, relay.port, env, to, message, error);
    if (r && r->requiretls_refused) {
      // RFC 8689 §4.2.1 applies to the smart host too: verified TLS and REQUIRETLS.
      refusal = r->rcpts.front();
      continue;
    }
    if (r) {
      count_tls(true, r->tls, false);
      co_return std::move(r->rcpts);
    }
    unreachable = true;
  }
  if (refusal) {
    co_return all(to.size(), requiretls_outcome(*refusal, unreachable, error));
  }
  // A refused login stays a failure of ours to fix, not the sender's: keep retrying (and
  // logging) until the queue lifetime ends, rather than bouncing at once.
  error.status = Status::Transient;
  co_return all(to.size(), error);
}

}  // namespace hk::delivery
