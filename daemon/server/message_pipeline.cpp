// The steps from the final dot to the reply, in the order they run.
#include "daemon/server/message_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/message_checks.hpp"
#include "daemon/server/received.hpp"
#include "daemon/server/server_metrics.hpp"
#include "domains/domains.hpp"
#include "domains/watcher.hpp"
#include "lib/base/date.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/config/config.hpp"
#include "lib/dkim/auth_results.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dkim/verify_dns.hpp"

namespace hk::server {
namespace {

using smtp::Reply;

// DKIM signing handed to the worker pool: RSA is milliseconds of CPU per message.
struct SignWork {
  const dkim::DkimSigner* signer;
  const std::string* message;  // the session is suspended until the work is done
  std::shared_ptr<const dkim::Keys> keys;
  std::string domain;
  std::pair<std::string, std::vector<std::string>> operator()() const {
    std::vector<std::string> errors;
    std::string headers = dkim::sign_all(*signer, *message, keys->at(domain), errors);
    return {std::move(headers), std::move(errors)};
  }
};

class MessagePipeline {
 public:
  MessagePipeline(const Deps& deps, Transaction tx, std::string body)
      : deps_(deps), cfg_(*deps.cfg), tx_(std::move(tx)), body_(std::move(body)) {}

  asio::awaitable<Reply> run();

 private:
  // The steps, in the order run() takes them.
  std::optional<Reply> check_loop();
  std::optional<Reply> authorize_from();
  void make_envelope();
  asio::awaitable<std::string> authentication_results();
  std::string trace_headers() const;
  std::string submission_headers() const;
  asio::awaitable<void> sign();
  asio::awaitable<std::error_code> commit();
  Reply accepted();

  void reject(metrics::Counter& reason) { reason.inc(); }

  const Deps& deps_;
  const config::Config& cfg_;
  Transaction tx_;
  std::string body_;     // as the client sent it
  std::string message_;  // our headers, then the body: what is stored
  queue::Envelope env_;
  std::time_t now_ = 0;
  bool delivered_ = false;  // into the Maildirs, instead of queued
};

asio::awaitable<Reply> MessagePipeline::run() {
  if (auto refused = check_loop()) {
    co_return *refused;
  }
  if (auto refused = authorize_from()) {
    co_return *refused;
  }
  make_envelope();
  message_ = co_await authentication_results();
  message_ += trace_headers();
  message_ += submission_headers();
  message_ += body_;
  body_.clear();
  body_.shrink_to_fit();
  co_await sign();
  std::error_code ec = co_await commit();
  if (ec) {
    base::log_error() << "id=" << env_.id << " client=" << tx_.client_ip
                      << " result=queue-error error=" << base::log_quote(ec.message());
    deps_.metrics->queue_write_errors.inc();
    co_return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
  }
  co_return accepted();
}

std::optional<Reply> MessagePipeline::check_loop() {
  if (tx_.hops >= cfg_.limits.max_received_headers) {
    reject(deps_.metrics->rejected_loop);
    return Reply(554, "5.4.6", "Too many hops, mail loop suspected");  // RFC 5321 §6.3
  }
  return std::nullopt;
}

// An authenticated user may write only addresses they may send as in From: (RFC 6409 §5 leaves
// the policy to the server; the envelope sender was checked at MAIL FROM the same way).
std::optional<Reply> MessagePipeline::authorize_from() {
  if (tx_.auth_user.empty()) {
    return std::nullopt;
  }
  auto doms = deps_.domains->current();
  for (const auto& addr : header_from_addresses(body_)) {
    auto at = addr.rfind('@');
    std::string local = at == std::string::npos ? addr : addr.substr(0, at);
    std::string domain = at == std::string::npos ? "" : addr.substr(at + 1);
    if (!doms->may_send_as(tx_.auth_user, local, domain)) {
      reject(deps_.metrics->rejected_from_header);
      return Reply(550, "5.7.1",
                   "From: header address <" + addr + "> not allowed for user " + tx_.auth_user);
    }
  }
  return std::nullopt;
}

void MessagePipeline::make_envelope() {
  env_.id = queue::QueueStore::new_id();
  env_.created = std::chrono::system_clock::now();
  env_.from = tx_.from;
  env_.rcpts = std::move(tx_.rcpts);
  env_.client_ip = tx_.client_ip;
  env_.helo = tx_.helo;
  env_.auth_user = tx_.auth_user;
  env_.smtputf8 = tx_.smtputf8;
  env_.eightbit = tx_.eightbit;
  now_ = std::chrono::system_clock::to_time_t(env_.created);
}

// Incoming mail from strangers: DKIM signatures are checked and recorded with SPF in
// Authentication-Results (RFC 8601); a failure never refuses the mail. Keys come through our
// resolver; the hashing runs on the pool (big messages take long).
asio::awaitable<std::string> MessagePipeline::authentication_results() {
  if (!tx_.verify_dkim) {
    co_return std::string();
  }
  std::vector<dkim::DkimVerifyResult> dkim_results =
      co_await dkim::verify_message(*deps_.dns, body_, 5, deps_.pool);
  co_return dkim::authentication_results(cfg_.hostname, dkim_results, tx_.spf_result, env_.from);
}

// Received-SPF (RFC 7208 §9.1) when SPF was checked, then our Received (RFC 5321 §4.4).
std::string MessagePipeline::trace_headers() const {
  TraceInfo trace;
  trace.helo = tx_.helo;
  trace.client_ip = tx_.client_ip;
  trace.hostname = cfg_.hostname;
  trace.id = env_.id;
  trace.for_rcpt = env_.rcpts.size() == 1 ? env_.rcpts.front().original : "";
  trace.esmtp = tx_.esmtp;
  trace.tls = tx_.tls;
  trace.authenticated = !tx_.auth_user.empty();
  if (trace.tls) {
    trace.tls_version = tx_.tls_version;
    trace.tls_cipher = tx_.tls_cipher;
  }
  return tx_.spf_header + received_header(trace, now_);
}

// RFC 6409 §8.2/§8.3: a submission server may add a missing Date and Message-ID.
std::string MessagePipeline::submission_headers() const {
  if (!tx_.submission) {
    return "";
  }
  return missing_submission_headers(
      body_, env_.id, cfg_.hostname,
      base::rfc5322_date(std::chrono::system_clock::from_time_t(now_)));
}

// RFC 6376: sign as the RFC5322.From domain when it has keys, with every key it has, before
// queueing, so that every recipient and every retry carries the same signatures.
asio::awaitable<void> MessagePipeline::sign() {
  if (!tx_.submission || deps_.dkim_keys == nullptr) {
    co_return;
  }
  auto from = header_from_addresses(message_);
  auto keys = deps_.dkim_keys->current();
  std::string domain = from.empty() ? "" : from.front().substr(from.front().rfind('@') + 1);
  if (domain.empty() || keys->count(domain) == 0) {
    co_return;
  }
  SignWork work{deps_.dkim_signer, &message_, keys, domain};
  auto [headers, errors] = co_await base::offload(*deps_.pool, std::move(work));
  for (const auto& e : errors) {
    base::log_error() << "id=" << env_.id << " dkim=error domain=" << domain
                      << " error=" << base::log_quote(e);
  }
  (headers.empty() ? deps_.metrics->dkim_error : deps_.metrics->dkim_signed).inc();
  message_.insert(0, headers);
}

// Mail only for local mailboxes is delivered before the reply, in the queue's group commit,
// instead of being queued and delivered later: half the disk work for the same durability.
// If that fails, nothing was delivered and the message takes the queue like any other.
asio::awaitable<std::error_code> MessagePipeline::commit() {
  bool all_local = std::all_of(env_.rcpts.begin(), env_.rcpts.end(),
                               [](const queue::Recipient& r) { return r.local; });
  if (all_local) {
    std::error_code ec =
        co_await deps_.store->deliver_local(env_, message_, cfg_.mail_dir(), cfg_.hostname);
    delivered_ = !ec;
    if (delivered_) {
      co_return ec;
    }
    base::log_warn() << "id=" << env_.id
                     << " result=local-delivery-failed error=" << base::log_quote(ec.message())
                     << " action=queue";
  }
  co_return co_await deps_.store->put(env_, message_);
}

// The message is stored: count it, log it, and hand a queued one to the runner.
Reply MessagePipeline::accepted() {
  deps_.metrics->accepted.inc();
  deps_.metrics->accepted_bytes.inc(message_.size());
  if (delivered_) {
    deps_.metrics->delivered_maildir.inc(env_.rcpts.size());
  }
  {
    auto line = base::log_info();
    line << "id=" << env_.id << " from=<" << env_.from << "> client=" << tx_.client_ip
         << " port=" << port_name(tx_.port) << " size=" << message_.size() << " rcpts=";
    for (size_t i = 0; i < env_.rcpts.size(); ++i) {
      line << (i ? "," : "") << env_.rcpts[i].address;
    }
    if (!tx_.auth_user.empty()) {
      line << " auth=" << tx_.auth_user;
    }
    line << " tls=" << (tx_.tls ? "yes" : "no")
         << (delivered_ ? " result=delivered" : " result=queued");
  }
  // Same words for a message delivered at once: clients and log scrapers look for "queued as".
  Reply ok(250, "2.0.0", "Ok: queued as " + env_.id);
  if (!delivered_) {
    deps_.queue->enqueued(std::move(env_));
  }
  return ok;
}

}  // namespace

asio::awaitable<Reply> accept_message(Deps deps, Transaction tx, std::string body) {
  MessagePipeline pipeline(deps, std::move(tx), std::move(body));
  co_return co_await pipeline.run();
}

}  // namespace hk::server
