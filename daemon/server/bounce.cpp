// DSN generation and queueing: bounces and delay warnings.
#include "daemon/server/bounce.hpp"

#include <chrono>
#include <ctime>

#include "daemon/queue/dsn.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "domains/domains.hpp"
#include "domains/watcher.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/dkim/signer.hpp"

namespace hk::server {
namespace {

std::string domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : base::to_lower(address.substr(at + 1));
}

// DKIM signing of a DSN handed to the worker pool (a named function object: see
// docs/architecture.md on lambdas in co_await expressions).
struct DsnSignWork {
  const dkim::DkimSigner* signer;
  std::shared_ptr<const dkim::Keys> keys;
  std::string domain;
  const std::string* message;  // the coroutine is suspended until the work is done
  std::pair<std::string, std::vector<std::string>> operator()() const {
    std::vector<std::string> errors;
    std::string headers = sign_dsn(*signer, *keys, domain, *message, errors);
    return {std::move(headers), std::move(errors)};
  }
};

// What tells a bounce from a delay warning: the DSN's kind and the words of its log lines.
struct DsnJob {
  queue::DsnKind kind;
  const char* what;       // "bounce" or "delay-warning", as in result=no-<what>, <what>-failed
  const char* for_key;    // names the original's ID in the line that records the DSN
  const char* count_key;  // names the number of recipients reported
  std::time_t retry_until = 0;
};

// Builds the DSN for `rcpts` and queues it to the original sender, or to the mailboxes it
// resolves to when the sender's domain is ours.
boost::asio::awaitable<void> send_dsn(BounceDeps deps, queue::Envelope env,
                                      std::vector<queue::Recipient> rcpts, DsnJob job,
                                      std::string original) {
  if (env.from.empty()) {
    base::log_info() << "id=" << env.id << " result=no-" << job.what << " reason=null-sender";
    co_return;
  }
  std::vector<const queue::Recipient*> reported;
  for (const auto& r : rcpts) {
    reported.push_back(&r);
  }
  // The queue's clock, which decided the failure or the delay, also dates the report.
  std::time_t now = std::chrono::system_clock::to_time_t(deps.queue->clock().now());
  auto doms = deps.domains->current();
  std::shared_ptr<const dkim::Keys> keys =
      deps.dkim_keys != nullptr ? deps.dkim_keys->current() : std::make_shared<const dkim::Keys>();
  DsnIdentity who = dsn_identity(deps.hostname, env, rcpts, *doms, *keys);
  queue::DsnInput in{env, reported, original, deps.hostname, who.postmaster, now};
  in.kind = job.kind;
  in.retry_until = job.retry_until;
  std::optional<queue::Dsn> dsn = queue::make_dsn(in);
  if (!dsn) {
    co_return;
  }
  dsn->envelope.id = queue::QueueStore::new_id();
  if (!who.sign_domain.empty() && deps.dkim_signer != nullptr) {
    DsnSignWork work{deps.dkim_signer, keys, who.sign_domain, &dsn->message};
    auto [headers, errors] = co_await base::offload(*deps.pool, std::move(work));
    for (const auto& e : errors) {
      base::log_error() << "id=" << dsn->envelope.id << " dkim=error domain=" << who.sign_domain
                        << " error=" << base::log_quote(e);
    }
    dsn->message.insert(0, headers);
  }
  // The sender's domain may be ours: then the DSN goes through its aliases to local mailboxes.
  std::vector<queue::Recipient> to;
  const std::string& sender = env.from;
  auto at = sender.rfind('@');
  if (at != std::string::npos && doms->is_local(sender.substr(at + 1))) {
    domains::Resolution res = doms->resolve(sender.substr(0, at), sender.substr(at + 1));
    for (const auto& t : res.targets) {
      queue::Recipient r;
      r.address = t.address;
      r.original = sender;
      r.local = t.kind == domains::Resolution::Kind::LocalUser;
      to.push_back(std::move(r));
    }
    if (to.empty()) {
      base::log_warn() << "id=" << env.id << " result=no-" << job.what
                       << " reason=unknown-local-sender from=<" << sender << ">";
      co_return;
    }
  } else {
    queue::Recipient r;
    r.address = sender;
    r.original = sender;
    to.push_back(std::move(r));
  }
  dsn->envelope.rcpts = std::move(to);
  std::error_code ec = co_await deps.store->put(dsn->envelope, dsn->message);
  if (ec) {
    base::log_error() << "id=" << env.id << " result=" << job.what
                      << "-failed error=" << base::log_quote(ec.message());
    co_return;
  }
  base::log_info() << "id=" << dsn->envelope.id << " from=<> to=<" << sender << "> " << job.for_key
                   << "=" << env.id << " " << job.count_key << "=" << rcpts.size()
                   << (who.sign_domain.empty() ? "" : " dkim_domain=") << who.sign_domain
                   << " result=queued";
  if (deps.sent != nullptr) {
    deps.sent->inc();
  }
  deps.queue->enqueued(std::move(dsn->envelope));
}

}  // namespace

DsnIdentity dsn_identity(const std::string& hostname, const queue::Envelope& env,
                         const std::vector<queue::Recipient>& reported,
                         const domains::Domains& doms, const dkim::Keys& keys) {
  auto ours = [&](const std::string& domain) {
    return !domain.empty() && doms.is_local(domain) && keys.count(domain) != 0;
  };
  for (const queue::Recipient& r : reported) {
    std::string domain = domain_of(r.original.empty() ? r.address : r.original);
    if (ours(domain)) {
      return {"postmaster@" + domain, domain};
    }
  }
  if (std::string domain = domain_of(env.from); ours(domain)) {
    return {"postmaster@" + domain, domain};
  }
  // The hostname, then each parent down to a two-label name.
  std::string host = base::to_lower(hostname);
  for (std::string_view d = host; d.find('.') != std::string_view::npos;
       d.remove_prefix(d.find('.') + 1)) {
    if (keys.count(std::string(d)) != 0) {
      return {"postmaster@" + hostname, std::string(d)};
    }
  }
  return {"postmaster@" + hostname, ""};
}

std::string sign_dsn(const dkim::DkimSigner& signer, const dkim::Keys& keys,
                     const std::string& domain, const std::string& message,
                     std::vector<std::string>& errors) {
  auto it = keys.find(domain);
  if (it == keys.end()) {
    errors.push_back("no DKIM key for " + domain);
    return "";
  }
  return signer.sign_all(message, it->second, errors);
}

boost::asio::awaitable<void> send_bounce(BounceDeps deps, queue::Envelope env,
                                         std::vector<queue::Recipient> failed,
                                         std::string original) {
  DsnJob job{queue::DsnKind::Failed, "bounce", "bounce_for", "failed"};
  return send_dsn(std::move(deps), std::move(env), std::move(failed), job, std::move(original));
}

boost::asio::awaitable<void> send_delay_warning(BounceDeps deps, queue::Envelope env,
                                                std::vector<queue::Recipient> pending,
                                                std::time_t retry_until, std::string original) {
  DsnJob job{queue::DsnKind::Delayed, "delay-warning", "delay_warning_for", "pending", retry_until};
  return send_dsn(std::move(deps), std::move(env), std::move(pending), job, std::move(original));
}

}  // namespace hk::server
