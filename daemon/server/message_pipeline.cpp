// The steps from the final dot to the reply, in the order they run.
#include "daemon/server/message_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "daemon/capture/capture_store.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/capture_rules.hpp"
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
#include "lib/dmarc/check.hpp"

namespace hk::server {
namespace {

using smtp::Reply;

// Pieces in which a spooled body is read back for hashing.
constexpr size_t kReadPiece = 256 * 1024;

// Feeds the body of the message in `spool`, from `offset`, to `piece` (from memory, or read back
// from the file in kReadPiece pieces); false when the file could not be read.
template <class Piece>
bool read_body(const queue::Spool& spool, uint64_t offset, Piece&& piece) {
  if (!spool.on_disk()) {
    std::string_view all = spool.head();
    return offset >= all.size() || piece(all.substr(static_cast<size_t>(offset)));
  }
  std::string buffer;
  for (uint64_t at = offset; at < spool.size(); at += buffer.size()) {
    if (spool.read(at, kReadPiece, buffer) || buffer.empty()) {
      return false;
    }
    if (!piece(std::string_view(buffer))) {
      return true;
    }
  }
  return true;
}

// The received message, for DKIM verification: its header section and its body from the spool.
class SpooledMessage final : public dkim::MessageSource {
 public:
  SpooledMessage(const queue::Spool& spool, std::string_view header, uint64_t body_offset)
      : spool_(spool), header_(header), body_offset_(body_offset) {}
  std::string_view header_section() const override { return header_; }
  bool read_body(const std::function<bool(std::string_view)>& piece) const override {
    return server::read_body(spool_, body_offset_, piece);
  }

 private:
  const queue::Spool& spool_;
  std::string_view header_;
  uint64_t body_offset_;
};

// DKIM signing handed to the worker pool: the body hash reads the whole message (from disk when
// it is large), and RSA is milliseconds of CPU per message.
struct SignWork {
  const dkim::DkimSigner* signer;
  const std::string* header;  // the session is suspended until the work is done
  const queue::Spool* spool;
  uint64_t body_offset;
  std::shared_ptr<const dkim::Keys> keys;
  std::string domain;
  std::pair<std::string, std::vector<std::string>> operator()() const {
    std::vector<std::string> errors;
    dkim::BodyHasher hasher = signer->body_hasher();
    bool read = read_body(*spool, body_offset, [&hasher](std::string_view piece) {
      hasher.update(piece);
      return true;
    });
    std::string error;
    std::optional<std::string> body_hash = hasher.finish(error);
    if (!read || !body_hash) {
      errors.push_back(read ? error : "the message could not be read back");
      return {std::string(), std::move(errors)};
    }
    std::string headers = signer->sign_all_hashed(*header, *body_hash, keys->at(domain), errors);
    return {std::move(headers), std::move(errors)};
  }
};

class MessagePipeline {
 public:
  MessagePipeline(const Deps& deps, Transaction tx, queue::Spool& spool)
      : deps_(deps), cfg_(*deps.cfg), tx_(std::move(tx)), spool_(spool) {}

  asio::awaitable<Reply> run();

 private:
  // The steps, in the order run() takes them.
  std::optional<Reply> check_spool() const;
  std::optional<Reply> check_loop();
  std::optional<Reply> find_header_section();
  std::optional<Reply> authorize_from();
  void make_envelope();
  asio::awaitable<void> authenticate();
  asio::awaitable<void> check_dmarc();
  std::optional<Reply> enforce_dmarc();
  std::string authentication_results() const;
  std::error_code rename_forged_auth_results();
  std::string trace_headers() const;
  std::string submission_headers() const;
  asio::awaitable<void> sign();
  asio::awaitable<std::error_code> capture();
  asio::awaitable<std::error_code> commit();
  void withdraw_capture();
  Reply accepted();

  void reject(metrics::Counter& reason) { reason.inc(); }

  const Deps& deps_;
  const config::Config& cfg_;
  Transaction tx_;
  queue::Spool& spool_;       // the message as the client sent it
  std::string_view headers_;  // its header section, in spool_.head()
  bool headers_complete_ = true;
  uint64_t body_offset_ = 0;  // where its body starts, after the empty line
  std::string ours_;          // the header fields we add, stored in front of it
  queue::Envelope env_;
  std::time_t now_ = 0;
  bool authenticated_ = false;  // DKIM (and DMARC) checked: the mail is a stranger's
  std::vector<dkim::DkimVerifyResult> dkim_results_;
  dmarc::AuthorDomains author_;        // when DMARC was checked
  std::vector<dmarc::Verdict> dmarc_;  // one per author domain
  std::string quarantine_;             // the X-Hikyaku-Quarantine field, when one is due
  bool delivered_ = false;             // into the Maildirs, instead of queued
  // Capture mode: the recipients captured (env_.rcpts keeps the ones [capture] deliver lets
  // through), and the captured copy's id.
  std::vector<queue::Recipient> captured_;
  std::string capture_id_;
};

asio::awaitable<Reply> MessagePipeline::run() {
  if (auto refused = check_spool()) {
    co_return *refused;
  }
  if (auto refused = check_loop()) {
    co_return *refused;
  }
  if (auto refused = find_header_section()) {
    co_return *refused;
  }
  if (auto refused = authorize_from()) {
    co_return *refused;
  }
  make_envelope();
  co_await authenticate();
  if (auto refused = enforce_dmarc()) {
    co_return *refused;
  }
  ours_ = authentication_results();
  if (std::error_code ec = rename_forged_auth_results()) {
    base::log_error() << "id=" << env_.id << " client=" << tx_.client_ip
                      << " result=spool-error error=" << base::log_quote(ec.message());
    deps_.metrics->queue_write_errors.inc();
    co_return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
  }
  ours_ += trace_headers();
  ours_ += submission_headers();
  co_await sign();
  // Bound to a name before the test (docs/architecture.md: GCC 12 and co_await in conditions).
  std::error_code captured = co_await capture();
  if (captured) {
    base::log_error() << "id=" << env_.id << " client=" << tx_.client_ip
                      << " result=capture-error error=" << base::log_quote(captured.message());
    deps_.metrics->queue_write_errors.inc();
    co_return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
  }
  std::error_code ec;
  if (!env_.rcpts.empty()) {
    ec = co_await commit();
  }
  if (ec) {
    base::log_error() << "id=" << env_.id << " client=" << tx_.client_ip
                      << " result=queue-error error=" << base::log_quote(ec.message());
    deps_.metrics->queue_write_errors.inc();
    withdraw_capture();
    co_return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
  }
  co_return accepted();
}

// The body could not be written to the spool (ENOSPC, EIO): nothing was stored, and the client
// may try again later (RFC 5321 §4.2.3: 451 local error in processing; RFC 3463 §3.4 X.3.0).
std::optional<Reply> MessagePipeline::check_spool() const {
  if (!spool_.error()) {
    return std::nullopt;
  }
  base::log_error() << "session client=" << tx_.client_ip
                    << " result=spool-error size=" << spool_.size()
                    << " error=" << base::log_quote(spool_.error().message());
  deps_.metrics->queue_write_errors.inc();
  return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
}

std::optional<Reply> MessagePipeline::check_loop() {
  if (tx_.hops >= cfg_.limits.max_received_headers) {
    reject(deps_.metrics->rejected_loop);
    return Reply(554, "5.4.6", "Too many hops, mail loop suspected");  // RFC 5321 §6.3
  }
  return std::nullopt;
}

// The header section (RFC 5322 §2.1) is what the checks and DKIM read. A message in memory has
// it whole; one on disk keeps its first Spool::kMemoryLimit bytes in memory, and a header section
// longer than that is refused where it must be read (submission: From: and DKIM signing), and
// left unverified otherwise.
std::optional<Reply> MessagePipeline::find_header_section() {
  std::string_view head = spool_.head();
  headers_ = header_section(head);
  bool empty_line = head.starts_with("\r\n") || headers_.size() + 2 <= head.size();
  headers_complete_ = !spool_.on_disk() || empty_line;
  body_offset_ = empty_line ? headers_.size() + 2 : spool_.size();
  if (!headers_complete_ && (tx_.submission || !tx_.auth_user.empty())) {
    reject(deps_.metrics->rejected_size);
    // RFC 5321 §4.5.3.1.9 (552 storage allocation), RFC 3463 §3.4 X.3.4 too big for system.
    return Reply(552, "5.3.4", "Message header section too large");
  }
  if (headers_complete_) {
    spool_.trim_head(headers_.size());  // the rest of the head is on disk too
    headers_ = spool_.head().substr(0, headers_.size());
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
  for (const auto& addr : header_from_addresses(headers_)) {
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
  env_.requiretls = tx_.requiretls;
  now_ = std::chrono::system_clock::to_time_t(env_.created);
}

// Incoming mail from strangers: DKIM signatures are checked, then DMARC, and the results are
// recorded with SPF's in Authentication-Results (RFC 8601); a DKIM failure never refuses the mail.
// Keys come through our resolver; the hashing runs on the pool (big messages take long).
asio::awaitable<void> MessagePipeline::authenticate() {
  if (!tx_.verify_dkim) {
    co_return;
  }
  authenticated_ = true;
  if (headers_complete_) {
    SpooledMessage message(spool_, headers_, body_offset_);
    dkim_results_ = co_await dkim::verify_message(*deps_.dns, message, 5, deps_.pool);
  } else if (dkim::find_signatures(spool_.head()).empty()) {
    dkim_results_.push_back({"none", "", "", "no DKIM-Signature"});
  } else {
    dkim_results_.push_back({"permerror", "", "", "header section too large to verify"});
  }
  if (cfg_.dmarc.enabled && deps_.psl != nullptr) {
    co_await check_dmarc();
  }
}

// RFC 7489 §6.6: the From: domain's policy, and whether SPF or DKIM authenticated a domain
// aligned with it. A header section too large to keep in memory is read as far as it is kept;
// its signatures were not verified, so only SPF can align.
asio::awaitable<void> MessagePipeline::check_dmarc() {
  author_ = dmarc::author_domains(header_from_fields(headers_complete_ ? headers_ : spool_.head()));
  dmarc::Identifiers ids;
  // §4.1 / RFC 7208 §2.4: SPF checked the MAIL FROM domain, or HELO for the null sender.
  ids.spf_pass = tx_.spf_result == "pass";
  ids.spf_domain = tx_.from.empty() ? tx_.helo : tx_.from.substr(tx_.from.rfind('@') + 1);
  for (const dkim::DkimVerifyResult& r : dkim_results_) {
    if (r.result == "pass" && !r.domain.empty()) {
      ids.dkim_pass_domains.push_back(r.domain);
    }
  }
  const int sample = dmarc::random_sample();  // one draw per message, for every author domain
  for (const std::string& domain : author_.domains) {
    dmarc::Verdict v = co_await dmarc::check(*deps_.dns, *deps_.psl, domain, ids, sample);
    deps_.metrics->dmarc(v.result).inc();
    base::log_info() << "id=" << env_.id << " client=" << tx_.client_ip
                     << " dmarc=" << dmarc::to_string(v.result) << " header_from=" << domain
                     << " policy_domain=" << base::log_quote(v.discovery.domain)
                     << " policy=" << dmarc::to_string(v.policy)
                     << " disposition=" << dmarc::to_string(v.disposition)
                     << " spf_aligned=" << (v.spf_aligned ? "yes" : "no")
                     << " dkim_aligned=" << (v.dkim_aligned ? "yes" : "no")
                     << " detail=" << base::log_quote(dmarc::describe(v, cfg_.dmarc.enforce));
    dmarc_.push_back(std::move(v));
  }
  if (author_.domains.empty()) {
    deps_.metrics->dmarc(author_.malformed ? dmarc::Result::PermError : dmarc::Result::None).inc();
    base::log_info() << "id=" << env_.id << " client=" << tx_.client_ip
                     << " dmarc=" << (author_.malformed ? "permerror" : "none")
                     << " detail=" << base::log_quote(author_.problem);
  }
}

// [dmarc] enforce: what RFC 7489 §6.6.4 asks of a receiver for mail that fails (and §6.6.1 of
// a From: that DMARC cannot evaluate): reject during the transaction (§10.3: 550 5.7.1, RFC 3463
// §3.8 delivery not authorized), or mark the message for the mailbox's filters.
std::optional<Reply> MessagePipeline::enforce_dmarc() {
  if (!cfg_.dmarc.enforce || !authenticated_) {
    return std::nullopt;
  }
  dmarc::Decision d = dmarc::decide(author_, dmarc_);
  if (d.action == dmarc::Policy::Reject) {
    reject(deps_.metrics->rejected_dmarc);
    base::log_info() << "id=" << env_.id << " client=" << tx_.client_ip
                     << " result=rejected reason=dmarc header_from=" << base::log_quote(d.domain)
                     << " detail=" << base::log_quote(d.reason);
    return Reply(550, "5.7.1", d.reason);
  }
  if (d.action == dmarc::Policy::Quarantine) {
    deps_.metrics->dmarc_quarantined.inc();
    quarantine_ = "X-Hikyaku-Quarantine: " + d.reason + "\r\n";
  }
  return std::nullopt;
}

// Authentication-Results (RFC 8601) with DKIM, SPF and DMARC (RFC 7489 §11.2: header.from), then
// the quarantine marker when one is due.
std::string MessagePipeline::authentication_results() const {
  if (!authenticated_) {
    return std::string();
  }
  std::vector<dkim::ResultInfo> more;
  for (const dmarc::Verdict& v : dmarc_) {
    more.push_back({"dmarc",
                    std::string(dmarc::to_string(v.result)),
                    dmarc::describe(v, cfg_.dmarc.enforce),
                    {{"header.from", v.from_domain}}});
  }
  if (dmarc_.empty() && !author_.problem.empty()) {
    more.push_back({"dmarc", author_.malformed ? "permerror" : "none", author_.problem, {}});
  }
  return dkim::authentication_results(cfg_.hostname, dkim_results_, tx_.spf_result, env_.from,
                                      more) +
         quarantine_;
}

// RFC 8601 §5: an Authentication-Results field that names us as its authserv-id, in mail from
// outside our trust boundary, is forged (a reader of the mailbox would take it for our verdict).
// It is renamed in place, after DKIM verification saw the message as it was sent. Mail from our
// own users and trusted networks keeps its fields.
std::error_code MessagePipeline::rename_forged_auth_results() {
  if (tx_.submission || !headers_complete_) {
    return {};
  }
  std::vector<size_t> forged = forged_auth_results(headers_, cfg_.hostname);
  for (size_t offset : forged) {
    if (std::error_code ec = spool_.overwrite(offset, kRenamedAuthResults)) {
      return ec;
    }
  }
  if (!forged.empty()) {
    base::log_info() << "id=" << env_.id << " client=" << tx_.client_ip
                     << " result=renamed-forged-auth-results fields=" << forged.size();
  }
  return {};
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
      headers_, env_.id, cfg_.hostname,
      base::rfc5322_date(std::chrono::system_clock::from_time_t(now_)));
}

// RFC 6376: sign as the RFC5322.From domain when it has keys, with every key it has, before
// queueing, so that every recipient and every retry carries the same signatures.
asio::awaitable<void> MessagePipeline::sign() {
  if (!tx_.submission || deps_.dkim_keys == nullptr) {
    co_return;
  }
  // From: is the client's (we never add one); the key lookup comes before any copying.
  auto from = header_from_addresses(headers_);
  auto keys = deps_.dkim_keys->current();
  std::string domain = from.empty() ? "" : from.front().substr(from.front().rfind('@') + 1);
  if (domain.empty() || keys->count(domain) == 0) {
    co_return;
  }
  // The fields we add come first: Date and Message-ID may be among them, and are signed.
  std::string header = ours_;
  header += headers_;
  SignWork work{deps_.dkim_signer, &header, &spool_, body_offset_, keys, domain};
  auto [headers, errors] = co_await base::offload(*deps_.pool, std::move(work));
  for (const auto& e : errors) {
    base::log_error() << "id=" << env_.id << " dkim=error domain=" << domain
                      << " error=" << base::log_quote(e);
  }
  (headers.empty() ? deps_.metrics->dkim_error : deps_.metrics->dkim_signed).inc();
  ours_.insert(0, headers);
}

// Capture mode: the message as it would leave — every header added, DKIM-signed — is stored in
// the capture for the recipients that [capture] deliver does not name; the others stay in env_
// and take the normal path (commit). Durable before the reply, like the queue (the store fsyncs).
asio::awaitable<std::error_code> MessagePipeline::capture() {
  if (!tx_.capture || deps_.capture == nullptr) {
    co_return std::error_code();
  }
  std::vector<queue::Recipient> normal;
  for (queue::Recipient& r : env_.rcpts) {
    (deliver_allowed(cfg_.capture.deliver, r.original) ? normal : captured_).push_back(r);
  }
  if (captured_.empty()) {
    co_return std::error_code();
  }
  // The same id as the message: the Received header names it, and a split message's two
  // copies are found by it in the log.
  queue::Envelope env = env_;
  env.rcpts = captured_;
  queue::MessageData message = spool_.data(ours_);
  std::error_code ec = co_await deps_.capture->put(env, message);
  if (ec) {
    captured_.clear();
    co_return ec;
  }
  capture_id_ = env.id;
  env_.rcpts = std::move(normal);
  co_return ec;
}

// The recipients that take the normal path could not be stored: the client is told 451 and will
// send the message again, so the captured copy goes too (else it would be captured twice).
void MessagePipeline::withdraw_capture() {
  if (!capture_id_.empty()) {
    deps_.capture->remove({capture_id_});
    capture_id_.clear();
  }
}

// Mail only for local mailboxes is delivered before the reply, in the queue's group commit,
// instead of being queued and delivered later: half the disk work for the same durability.
// If that fails, nothing was delivered and the message takes the queue like any other.
asio::awaitable<std::error_code> MessagePipeline::commit() {
  bool all_local = std::all_of(env_.rcpts.begin(), env_.rcpts.end(),
                               [](const queue::Recipient& r) { return r.local; });
  // Our header fields, then the body from memory or copied from the spool file.
  queue::MessageData message = spool_.data(ours_);
  if (all_local) {
    std::error_code ec =
        co_await deps_.store->deliver_local(env_, message, cfg_.mail_dir(), cfg_.hostname);
    delivered_ = !ec;
    if (delivered_) {
      co_return ec;
    }
    base::log_warn() << "id=" << env_.id
                     << " result=local-delivery-failed error=" << base::log_quote(ec.message())
                     << " action=queue";
  }
  co_return co_await deps_.store->put(env_, message);
}

// The message is stored: count it, log it, and hand a queued one to the runner.
Reply MessagePipeline::accepted() {
  deps_.metrics->accepted.inc();
  const uint64_t size = ours_.size() + spool_.size();
  deps_.metrics->accepted_bytes.inc(size);
  if (delivered_) {
    deps_.metrics->delivered_maildir.inc(env_.rcpts.size());
  }
  if (!capture_id_.empty()) {
    auto line = base::log_info();
    line << "capture id=" << capture_id_ << " from=<" << env_.from << "> client=" << tx_.client_ip
         << " port=" << port_name(tx_.port) << " size=" << size << " rcpts=";
    for (size_t i = 0; i < captured_.size(); ++i) {
      line << (i ? "," : "") << captured_[i].address;
    }
    line << " result=captured";
  }
  if (env_.rcpts.empty()) {
    // Every recipient was captured: nothing is queued. Same words as below for clients.
    return Reply(250, "2.0.0", "Ok: queued as " + capture_id_);
  }
  const auto srs = static_cast<uint64_t>(
      std::count_if(env_.rcpts.begin(), env_.rcpts.end(),
                    [](const queue::Recipient& r) { return !r.sender.empty(); }));
  deps_.metrics->srs_rewritten.inc(srs);
  {
    auto line = base::log_info();
    line << "id=" << env_.id << " from=<" << env_.from << "> client=" << tx_.client_ip
         << " port=" << port_name(tx_.port) << " size=" << size << " rcpts=";
    for (size_t i = 0; i < env_.rcpts.size(); ++i) {
      line << (i ? "," : "") << env_.rcpts[i].address;
    }
    if (srs > 0) {
      line << " srs=" << srs;  // recipients that leave with an SRS sender (docs/srs.md)
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

asio::awaitable<Reply> accept_message(Deps deps, Transaction tx, queue::Spool& spool) {
  MessagePipeline pipeline(deps, std::move(tx), spool);
  co_return co_await pipeline.run();
}

asio::awaitable<Reply> accept_message(Deps deps, Transaction tx, std::string body) {
  // In pieces, as SmtpChannel::read_data hands them over.
  queue::Spool spool(deps.store->spool_dir());
  std::string pending;
  for (size_t at = 0; at < body.size(); at += queue::Spool::kChunk) {
    pending.append(body, at, queue::Spool::kChunk);
    spool.take(pending);
  }
  spool.finish(pending);
  co_return co_await accept_message(deps, std::move(tx), spool);
}

}  // namespace hk::server
