// The SMTP session: greeting, then one command at a time until QUIT, a timeout or a dropped
// connection. Each verb has a check (sequence, permissions, syntax) that replies before any side
// effect, and only then acts. What happens to a message after its final dot is the message
// pipeline's (message_pipeline.cpp); the SASL exchange of AUTH is lib/smtp/sasl.cpp's.
#include "daemon/server/session.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include "certs/cert_store.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/abuse_guard.hpp"
#include "daemon/server/capture_rules.hpp"
#include "daemon/server/drain.hpp"
#include "daemon/server/forwarding.hpp"
#include "daemon/server/inbound_policy.hpp"
#include "daemon/server/message_pipeline.hpp"
#include "daemon/server/recipients.hpp"
#include "daemon/server/server_metrics.hpp"
#include "daemon/server/session_timer.hpp"
#include "daemon/server/smtp_channel.hpp"
#include "domains/auth_cache.hpp"
#include "domains/domains.hpp"
#include "domains/watcher.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/config/config.hpp"
#include "lib/smtp/command.hpp"
#include "lib/smtp/data_reader.hpp"
#include "lib/smtp/params.hpp"
#include "lib/smtp/reply.hpp"
#include "lib/smtp/sasl.hpp"
#include "lib/spf/check_host.hpp"
#include "lib/srs/secret_file.hpp"

namespace hk::server {

using smtp::Reply;
using smtp::Verb;

namespace {

// RFC 5321 §4.5.3.1.4 allows 512 octets per command line; extensions (SIZE, SMTPUTF8, AUTH
// initial responses) make that too small, so hikyaku accepts up to 1000 octets, CRLF included.
constexpr size_t kMaxCommandLine = 1000;
// Commands that fail before the client is told to go away (a scanner, a confused client).
constexpr int kMaxErrors = 20;
// The extensions whose MAIL/RCPT parameters we accept; DSN (RFC 3461) is not advertised yet.
// REQUIRETLS is advertised only under TLS (RFC 8689 §4.1); on a plaintext session its parameter
// is still recognized, so that the client is told why it is refused (mail()).
const smtp::Extensions kExtensions{.size = true,
                                   .eightbitmime = true,
                                   .smtputf8 = true,
                                   .auth = true,
                                   .dsn = false,
                                   .requiretls = true};

// The password check handed to the worker pool.
struct AuthCheck {
  std::shared_ptr<const domains::Domains> domains;
  std::string username;
  std::string password;
  std::optional<std::string> operator()() const {
    return domains->authenticate(username, password);
  }
};

// RFC 2920 §3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP may only come last in a pipelined
// group, since what follows depends on their reply; HELO (the client has not seen PIPELINING),
// STARTTLS (RFC 3207 §4.2: nothing may follow before the handshake) and AUTH (its outcome decides
// what MAIL may do, RFC 4954 §4) for the same reason. Input already buffered behind one of them
// was sent without waiting for its reply.
bool ends_pipelined_group(Verb v) {
  switch (v) {
    case Verb::Ehlo:
    case Verb::Helo:
    case Verb::Data:
    case Verb::Vrfy:
    case Verb::Expn:
    case Verb::Quit:
    case Verb::Noop:
    case Verb::StartTls:
    case Verb::Auth:
      return true;
    default:
      return false;
  }
}

// Transaction state (RFC 5321 §3.3): where we are between HELO and the end of DATA.
enum class Phase { Connected, Greeted, Mail, Rcpt };

class Session {
 public:
  Session(Transport& conn, Deps deps, Port port, ConnectionSlot& slot)
      : conn_(conn),
        deps_(deps),
        cfg_(*deps.cfg),
        port_(port),
        slot_(slot),
        io_(conn, kMaxCommandLine),
        client_ip_(conn.remote_address().to_string()),
        timer_(conn, cfg_, deps.metrics, client_ip_, io_, deps.counts) {
    for (const auto& net : cfg_.trusted_networks) {
      if (net.contains(conn_.remote_address())) {
        trusted_ = true;
        break;
      }
    }
  }

  asio::awaitable<void> run();
  // Stops the timeout timer and waits until no timer handler can refer to this session.
  asio::awaitable<void> finish() { return timer_.finish(); }

 private:
  asio::awaitable<std::optional<Reply>> dispatch(const smtp::Line& line);
  bool improper_pipelining(const smtp::Line& line) const;
  std::optional<Reply> check_message_rate();
  asio::awaitable<void> pause(std::chrono::milliseconds d);
  // The next command line, read while the daemon's stop may wake the session (Drain).
  asio::awaitable<std::optional<smtp::Line>> next_command();
  bool draining() const { return deps_.drain != nullptr && deps_.drain->draining(); }
  asio::awaitable<bool> start_tls();

  // ---- verbs ----
  Reply on_helo(const smtp::Command& cmd, bool esmtp);
  Reply on_mail(const smtp::Command& cmd);
  std::optional<Reply> check_free_space(uint64_t declared, const std::string& sender);
  // RFC 7208 for strangers on port 25: records the result for a Received-SPF header and, with
  // [spf] reject_fail, refuses a "fail" at MAIL FROM.
  bool needs_spf() const { return should_check_spf(standing(), deps_.dns != nullptr); }
  asio::awaitable<Reply> check_spf();
  Reply on_rcpt(const smtp::Command& cmd);
  SrsScope srs_scope(const domains::Domains& doms);
  Reply on_rset();
  asio::awaitable<Reply> on_data();
  Transaction transaction(int hops);
  asio::awaitable<std::optional<Reply>> on_starttls(const smtp::Command& cmd);
  asio::awaitable<Reply> on_auth(const smtp::Command& cmd);
  std::optional<Reply> check_auth() const;
  asio::awaitable<Reply> check_password(std::string username, std::string password);

  ClientStanding standing() const {
    return {port_, conn_.tls(), trusted_, conn_.remote_address().is_loopback(),
            !auth_user_.empty()};
  }
  bool auth_offered() const {
    return server::auth_offered(standing(), cfg_.allow_plain_auth_from_trusted);
  }
  bool needs_auth() const { return auth_required(standing()); }
  bool may_relay() const { return server::may_relay(standing()); }
  // Capture mode (docs/capture.md): mail of a trusted client that did not AUTH is captured,
  // except for recipients [capture] deliver names.
  bool capturing() const {
    return deps_.capture != nullptr && cfg_.capture.enabled && trusted_ && auth_user_.empty();
  }
  bool captured(std::string_view address) const {
    return capturing() && !deliver_allowed(cfg_.capture.deliver, address);
  }
  std::optional<Reply> inject_at_rcpt(const std::string& address);
  asio::awaitable<std::optional<Reply>> inject_at_dot();
  asio::awaitable<void> injected_delay(std::chrono::seconds delay);
  Reply error(Reply r);
  void reset_transaction() {
    mail_.reset();
    spf_header_.clear();
    spf_result_.clear();
    rcpts_.clear();
    rcpt_count_ = 0;
    if (phase_ > Phase::Greeted) {
      phase_ = Phase::Greeted;
    }
  }
  void reject(metrics::Counter& reason) { reason.inc(); }

  Transport& conn_;
  Deps deps_;
  const config::Config& cfg_;
  Port port_;
  ConnectionSlot& slot_;
  SmtpChannel io_;
  std::string client_ip_;
  SessionTimer timer_;
  bool trusted_ = false;

  Phase phase_ = Phase::Connected;
  std::string helo_;
  bool esmtp_ = false;
  std::string auth_user_;
  int auth_failures_ = 0;
  int errors_ = 0;

  std::optional<smtp::MailFrom> mail_;
  std::string spf_header_;  // "Received-SPF: ...\r\n" for the current transaction
  std::string spf_result_;  // "pass", "fail", ... for Authentication-Results
  std::vector<queue::Recipient> rcpts_;
  size_t rcpt_count_ = 0;
  std::chrono::seconds rcpt_delay_{0};       // slow-Ns at RCPT: the reply waits this long
  std::shared_ptr<const srs::Codec> codec_;  // the SRS secrets srs_scope() took last
};

Reply Session::error(Reply r) {
  if (++errors_ >= kMaxErrors) {
    reject(deps_.metrics->rejected_errors);
    base::log_info() << "session client=" << client_ip_ << " result=refused reason=errors";
    return Reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing connection", true);
  }
  return r;
}

asio::awaitable<void> Session::run() {
  if (port_ == Port::SubmissionTls) {
    bool up = co_await start_tls();
    if (!up) {
      co_return;
    }
  }
  // RFC 5321 §4.2: the greeting names the server; ESMTP announces extension support.
  if (!co_await io_.send(Reply(220, "", cfg_.hostname + " ESMTP hikyaku"))) {
    co_return;
  }
  for (;;) {
    if (draining()) {
      // The daemon is stopping: this session's command is answered, the next one is not read.
      co_await io_.send(Drain::reply(cfg_.hostname));
      co_return;
    }
    timer_.wait_command();
    std::optional<smtp::Line> line = co_await next_command();
    if (!line) {
      if (draining()) {
        co_await io_.send(Drain::reply(cfg_.hostname));  // woken by the stop, socket still open
      }
      co_return;
    }
    timer_.touch(cfg_.limits.command_timeout);
    if (improper_pipelining(*line)) {
      // As Postfix's smtpd_forbid_unauth_pipelining: a client that does not wait for replies it
      // must wait for is a spam engine or a smuggling attempt; whatever it sent is not taken.
      reject(deps_.metrics->rejected_pipelining);
      base::log_info() << "session client=" << client_ip_
                       << " command=" << base::log_quote(line->text.substr(0, line->text.find(' ')))
                       << " result=refused reason=pipelining";
      io_.queue(Reply(554, "5.5.0", "Improper use of SMTP command pipelining", true));
      co_await io_.flush();
      co_return;
    }
    std::optional<Reply> r = co_await dispatch(*line);
    if (!r) {
      continue;  // TLS is up (or the connection is gone); the client speaks next
    }
    io_.queue(*r);
    if (r->close) {
      co_await io_.flush();
      co_return;
    }
  }
}

// Strangers only: trusted networks and authenticated clients are the operator's own, and their
// replies are never held back for this.
bool Session::improper_pipelining(const smtp::Line& line) const {
  if (trusted_ || !auth_user_.empty() || line.too_long || !io_.has_unread_input()) {
    return false;
  }
  return ends_pipelined_group(smtp::parse_command(line.text).verb);
}

asio::awaitable<void> Session::pause(std::chrono::milliseconds d) {
  asio::steady_timer t(conn_.executor(), d);
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<std::optional<smtp::Line>> Session::next_command() {
  // Replies held back for pipelining go out before the session counts as waiting, so that the
  // stop's wake-up never cuts one (the 250 after DATA) halfway.
  if (io_.replies_held() && !io_.has_unread_input()) {
    bool sent = co_await io_.flush();
    if (!sent) {
      co_return std::nullopt;
    }
  }
  Drain::Waiting waiting(deps_.drain, conn_);
  co_return co_await io_.read_line();
}

// One command line to its reply; nothing when STARTTLS has already answered. Only DATA,
// STARTTLS, AUTH and the SPF check at MAIL FROM wait for I/O; the other verbs are plain functions.
asio::awaitable<std::optional<Reply>> Session::dispatch(const smtp::Line& line) {
  if (line.too_long) {
    co_return error(Reply(500, "5.5.2", "Line too long"));  // RFC 5321 §4.5.3.1.4
  }
  smtp::Command cmd = smtp::parse_command(line.text);
  if (!cmd.syntax_ok) {
    co_return error(smtp::syntax_reply(cmd.verb));
  }
  switch (cmd.verb) {
    case Verb::Ehlo:
      co_return on_helo(cmd, true);
    case Verb::Helo:
      co_return on_helo(cmd, false);
    case Verb::Mail: {
      Reply r = on_mail(cmd);
      if (r.positive() && needs_spf()) {
        r = co_await check_spf();
      }
      co_return r;
    }
    case Verb::Rcpt: {
      Reply r = on_rcpt(cmd);
      if (rcpt_delay_.count() > 0) {
        co_await injected_delay(std::exchange(rcpt_delay_, std::chrono::seconds(0)));
      }
      co_return r;
    }
    case Verb::Data:
      co_return co_await on_data();
    case Verb::Rset:
      co_return on_rset();
    case Verb::Noop:
      co_return Reply(250, "2.0.0", "Ok");
    case Verb::Quit:
      co_return Reply(221, "2.0.0", cfg_.hostname + " Bye", true);
    case Verb::Vrfy:
      // RFC 5321 §3.5.3: 252 says "cannot verify" without revealing whether the user exists.
      co_return Reply(252, "2.1.5",
                      "Cannot VRFY user, but will accept message and attempt delivery");
    case Verb::Expn:
      co_return error(Reply(502, "5.5.1", "EXPN not available"));
    case Verb::Help:
      co_return Reply(214, "2.0.0",
                      "hikyaku: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS AUTH");
    case Verb::StartTls:
      co_return co_await on_starttls(cmd);
    case Verb::Auth:
      co_return co_await on_auth(cmd);
    case Verb::Bdat:
      co_return error(Reply(502, "5.5.1", "CHUNKING not offered"));  // RFC 3030 not advertised
    case Verb::Unknown:
      break;
  }
  co_return error(Reply(500, "5.5.2", "Command not recognized"));
}

// The TLS handshake: at once on port 465 (RFC 8314), after the 220 to STARTTLS elsewhere.
asio::awaitable<bool> Session::start_tls() {
  auto ec = co_await conn_.start_tls(deps_.certs->context());
  if (ec) {
    base::log_info() << "session client=" << client_ip_
                     << " result=tls-failed error=" << base::log_quote(ec.message());
    deps_.metrics->tls_handshake_failures.inc();
  }
  co_return !ec;
}

Reply Session::on_helo(const smtp::Command& cmd, bool esmtp) {
  if (cmd.arg.empty() || cmd.arg.find(' ') != std::string::npos) {
    return error(Reply(501, "5.5.4", esmtp ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"));
  }
  // RFC 5321 §4.1.4: EHLO in the middle of a transaction resets it.
  reset_transaction();
  helo_ = cmd.arg;
  esmtp_ = esmtp;
  phase_ = Phase::Greeted;
  if (!esmtp) {
    return Reply(250, "", cfg_.hostname);
  }
  Reply r(250, "", cfg_.hostname + " Hello " + client_ip_);
  for (std::string& keyword :
       ehlo_keywords(standing(), cfg_.limits.max_message_size, deps_.certs->has_tls(),
                     cfg_.allow_plain_auth_from_trusted)) {
    r.lines.push_back(std::move(keyword));
  }
  return r;
}

Reply Session::on_rset() {
  reset_transaction();
  return Reply(250, "2.0.0", "Ok");
}

Reply Session::on_mail(const smtp::Command& cmd) {
  if (phase_ == Phase::Connected) {
    return error(Reply(503, "5.5.1", "Send EHLO or HELO first"));
  }
  if (phase_ != Phase::Greeted) {
    return error(Reply(503, "5.5.1", "Nested MAIL command"));
  }
  if (needs_auth()) {
    reject(deps_.metrics->rejected_auth_required);
    return error(Reply(530, "5.7.0", "Authentication required"));  // RFC 4954 §6
  }
  auto parsed = smtp::parse_mail_from(cmd.arg, kExtensions);
  if (!parsed.ok) {
    return error(parsed.error);
  }
  smtp::MailFrom& m = parsed.value;
  if (m.size && *m.size > cfg_.limits.max_message_size) {
    reject(deps_.metrics->rejected_size);
    // RFC 1870 §6.1: the declared size already exceeds the fixed maximum.
    return Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
  }
  if (m.smtputf8 && !esmtp_) {
    return error(Reply(503, "5.5.1", "SMTPUTF8 requires EHLO"));
  }
  if (m.requiretls && !conn_.tls()) {
    // RFC 8689 §4.1: REQUIRETLS is only valid on a TLS session; 5.7.10 "encryption needed"
    // (RFC 5248).
    return error(Reply(530, "5.7.10", "REQUIRETLS requires a TLS session (STARTTLS first)"));
  }
  const std::string sender = m.from.is_null() ? "" : m.from.str();
  if (auto full = check_free_space(m.size.value_or(0), sender)) {
    return *full;
  }
  if (!auth_user_.empty()) {
    auto doms = deps_.domains->current();
    if (m.from.is_null() || !doms->may_send_as(auth_user_, m.from.local, m.from.domain)) {
      reject(deps_.metrics->rejected_sender);
      base::log_info() << "session client=" << client_ip_ << " auth=" << auth_user_
                       << " from=" << base::log_quote(sender) << " result=rejected reason=sender";
      return error(
          Reply(553, "5.7.1", "Sender <" + sender + "> not allowed for user " + auth_user_));
    }
  } else if (trusted_ && !cfg_.trusted_sender_domains.empty()) {
    const auto& allowed = cfg_.trusted_sender_domains;
    if (std::find(allowed.begin(), allowed.end(), m.from.domain) == allowed.end()) {
      reject(deps_.metrics->rejected_sender);
      return error(Reply(553, "5.7.1", "Sender domain not allowed from this network"));
    }
  }
  if (std::optional<Reply> refused = check_message_rate()) {
    return *refused;
  }
  mail_ = std::move(m);
  phase_ = Phase::Mail;
  return Reply(250, "2.1.0", "Ok");
}

// Anvil's message rate, for the clients that may send anywhere: authenticated users and trusted
// networks. Strangers can only send to local users and are held by the connection limits.
std::optional<Reply> Session::check_message_rate() {
  if (deps_.abuse == nullptr || (auth_user_.empty() && !trusted_)) {
    return std::nullopt;
  }
  const auto& l = cfg_.limits;
  bool ok = auth_user_.empty()
                ? deps_.abuse->take_message("ip:" + client_ip_, l.messages_per_hour_trusted)
                : deps_.abuse->take_message("user:" + auth_user_, l.messages_per_hour_user);
  if (ok) {
    return std::nullopt;
  }
  reject(deps_.metrics->rejected_message_rate);
  base::log_info() << "session client=" << client_ip_
                   << (auth_user_.empty() ? "" : " auth=" + base::log_quote(auth_user_))
                   << " result=refused reason=message-rate";
  // RFC 3463 X.7.1: not allowed by policy now; 451 so that the sender's queue retries later.
  return Reply(451, "4.7.1", "Too many messages, try again later");
}

// [queue] min_free_space: refused before any data is sent, rather than accepted and lost or
// refused after the whole message came in. RFC 1870 §6.1 and RFC 5321 §4.2.3: 452 insufficient
// system storage; RFC 3463 §3.4: X.3.1 mail system full. A SIZE declared at MAIL FROM must fit
// too. Temporary: the client retries, and mail is accepted again once space returns.
std::optional<Reply> Session::check_free_space(uint64_t declared, const std::string& sender) {
  const uint64_t min_free = cfg_.queue.min_free_space;
  if (min_free == 0 || deps_.store == nullptr) {
    return std::nullopt;
  }
  const uint64_t available = deps_.store->available_bytes();
  if (available >= min_free && available - min_free >= declared) {
    return std::nullopt;
  }
  reject(deps_.metrics->rejected_disk_space);
  base::log_warn() << "session client=" << client_ip_ << " from=" << base::log_quote(sender)
                   << " result=rejected reason=disk-space available=" << available
                   << " min_free_space=" << min_free << " declared_size=" << declared
                   << " dir=" << base::log_quote(deps_.store->dir().string());
  return Reply(452, "4.3.1", "Insufficient system storage");
}

Reply Session::on_rcpt(const smtp::Command& cmd) {
  if (phase_ != Phase::Mail && phase_ != Phase::Rcpt) {
    return error(Reply(503, "5.5.1", "Need MAIL command first"));
  }
  auto parsed = smtp::parse_rcpt_to(cmd.arg, mail_ && mail_->smtputf8, kExtensions);
  if (!parsed.ok) {
    return error(parsed.error);
  }
  smtp::Address to = parsed.value.to;
  if (rcpt_count_ >= cfg_.limits.max_recipients) {
    reject(deps_.metrics->rejected_recipients);
    return Reply(452, "4.5.3", "Too many recipients");  // RFC 5321 §4.5.3.1.10
  }
  if (to.utf8 && !(mail_ && mail_->smtputf8)) {
    return error(Reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"));  // RFC 6531 §3.5
  }
  if (to.literal) {
    // Address literals would let anyone aim us at an arbitrary host: never accepted.
    reject(deps_.metrics->rejected_relay);
    return error(Reply(550, "5.7.1", "Address literals are not accepted"));
  }
  if (auto injected = inject_at_rcpt(to.str())) {
    return *injected;
  }
  auto doms = deps_.domains->current();
  SrsScope srs = srs_scope(*doms);
  SrsRcpt bounce = resolve_srs_rcpt(srs, to, cfg_.hostname);
  if (bounce.kind == SrsRcpt::Kind::Refused) {
    reject(deps_.metrics->srs_refused(bounce.error));
    base::log_info() << "session client=" << client_ip_ << " rcpt=" << base::log_quote(to.str())
                     << " result=rejected reason=srs srs="
                     << base::log_quote(to_string(bounce.error));
    // RFC 3463 §3.2 X.1.1: the address names no mailbox (any more); the sender's bounce is for
    // nobody we know. 5.7.x would blame the client, who may be an honest MTA.
    return error(
        Reply(550, "5.1.1", "Invalid SRS address (" + std::string(to_string(bounce.error)) + ")"));
  }
  const bool srs_bounce = bounce.kind == SrsRcpt::Kind::Accepted;
  RcptTargets targets =
      srs_bounce ? std::move(bounce.targets) : resolve_rcpt(*doms, to, cfg_.hostname);
  if (targets.kind == RcptTargets::Kind::AliasError) {
    base::log_warn() << "session client=" << client_ip_
                     << " rcpt=" << base::log_quote(targets.original)
                     << " result=alias-error error=" << base::log_quote(targets.error);
    return Reply(451, "4.3.0", "Local configuration error resolving recipient");
  }
  if (targets.kind == RcptTargets::Kind::NoSuchUser) {
    reject(deps_.metrics->rejected_unknown_user);
    return error(Reply(550, "5.1.1", "No such user here"));
  }
  // An SRS address of ours that checks out is relayed on port 25 too: we made it.
  if (targets.kind == RcptTargets::Kind::Remote && !may_relay() && !srs_bounce) {
    reject(deps_.metrics->rejected_relay);
    base::log_info() << "session client=" << client_ip_
                     << " rcpt=" << base::log_quote(targets.original)
                     << " result=rejected reason=relay";
    return error(Reply(550, "5.7.1", "Relaying denied"));
  }
  if (srs_bounce) {
    deps_.metrics->srs_bounce_accepted.inc();
    base::log_info() << "session client=" << client_ip_
                     << " rcpt=" << base::log_quote(targets.original) << " result=srs-accepted to="
                     << base::log_quote(targets.rcpts.empty() ? "" : targets.rcpts[0].address);
  }
  if (srs_bounce || targets.kind == RcptTargets::Kind::Local) {
    deps_.metrics->srs_not_rewritten.inc(rewrite_forwards(srs, targets, mail_->from.str()));
  }
  add_rcpts(rcpts_, std::move(targets));
  ++rcpt_count_;
  phase_ = Phase::Rcpt;
  return Reply(250, "2.1.5", "Ok");
}

// Failure injection for captured mail: a recipient whose local part is fail-550 or defer-451
// gets that reply, slow-Ns a reply N seconds late (after the checks that follow). Intended by the
// client, so not counted as an error.
std::optional<Reply> Session::inject_at_rcpt(const std::string& address) {
  if (!captured(address)) {
    return std::nullopt;
  }
  Injection injection = find_injection(address);
  if (!injection.any() || injection.at_dot) {
    return std::nullopt;
  }
  base::log_info() << "session client=" << client_ip_ << " rcpt=" << base::log_quote(address)
                   << " result=injected injection=" << injection.name << " at=rcpt";
  if (injection.outcome != Injection::Outcome::None) {
    return injected_reply(injection);
  }
  rcpt_delay_ = injection.delay;
  return std::nullopt;
}

// The +tags of the captured recipients (bob+fail-550@x) act at the final dot: the longest delay,
// then a failure when one is asked for, before anything is stored.
asio::awaitable<std::optional<Reply>> Session::inject_at_dot() {
  std::vector<std::string> addresses;
  for (const queue::Recipient& r : rcpts_) {
    if (captured(r.original)) {
      addresses.push_back(r.original);
    }
  }
  Injection injection = injection_at_dot(addresses);
  if (!injection.any()) {
    co_return std::nullopt;
  }
  base::log_info() << "session client=" << client_ip_
                   << " result=injected injection=" << injection.name << " at=dot";
  if (injection.delay.count() > 0) {
    co_await injected_delay(injection.delay);
  }
  if (injection.outcome != Injection::Outcome::None) {
    co_return injected_reply(injection);
  }
  co_return std::nullopt;
}

// The session's timeout is moved past the delay, so that the wait is the client's to see.
asio::awaitable<void> Session::injected_delay(std::chrono::seconds delay) {
  timer_.touch(cfg_.limits.command_timeout + delay);
  co_await pause(delay);
  timer_.touch(cfg_.limits.command_timeout);
}

SrsScope Session::srs_scope(const domains::Domains& doms) {
  SrsScope scope;
  if (deps_.srs != nullptr && cfg_.srs.enabled != config::SrsMode::Off) {
    codec_ = deps_.srs->current();
    scope.codec = codec_.get();
  }
  scope.cfg = &cfg_;
  scope.doms = &doms;
  scope.day = srs::day_of(std::chrono::system_clock::now());
  return scope;
}

asio::awaitable<Reply> Session::on_data() {
  if (phase_ == Phase::Mail) {
    co_return error(Reply(554, "5.5.1", "No valid recipients"));  // RFC 5321 §3.3
  }
  if (phase_ != Phase::Rcpt) {
    co_return error(Reply(503, "5.5.1", "Need RCPT command first"));
  }
  if (!co_await io_.send(Reply(354, "", "End data with <CR><LF>.<CR><LF>"))) {
    co_return Reply(421, "4.4.2", "", true);
  }
  // RFC 5321 §4.5.3.2.5/6: generous time for the data, bounded overall.
  timer_.touch(cfg_.limits.data_timeout);
  smtp::DataReader reader(cfg_.limits.max_message_size);
  // The body goes to the spool as it arrives: memory stays bounded whatever the message size.
  queue::Spool spool(deps_.store->spool_dir());
  bool complete = co_await io_.read_data(reader, spool);
  if (!complete) {
    // Dropped before the final dot: nothing was stored; the spool file has no name and goes
    // with its descriptor, so nothing is left behind.
    base::log_info() << "session client=" << client_ip_ << " result=dropped-in-data";
    co_return Reply(421, "4.4.2", "", true);
  }
  timer_.touch(cfg_.limits.command_timeout);
  if (reader.error() != smtp::DataReader::Error::None) {
    using Error = smtp::DataReader::Error;
    reject(reader.error() == Error::TooBig    ? deps_.metrics->rejected_size
           : reader.error() == Error::NulByte ? deps_.metrics->rejected_nul_byte
                                              : deps_.metrics->rejected_bare_line_ending);
    reset_transaction();
    co_return smtp::reply_for(reader.error());
  }
  std::optional<Reply> injected = co_await inject_at_dot();
  if (injected) {
    reset_transaction();
    co_return *injected;
  }
  Reply r = co_await accept_message(deps_, transaction(reader.received_count()), spool);
  reset_transaction();
  co_return r;
}

// Everything the message pipeline needs to know about the client and the envelope; takes the
// recipients.
Transaction Session::transaction(int hops) {
  Transaction tx;
  tx.port = port_;
  tx.client_ip = client_ip_;
  tx.helo = helo_;
  tx.esmtp = esmtp_;
  tx.auth_user = auth_user_;
  tx.submission = may_relay();
  tx.verify_dkim = should_verify_dkim(standing(), deps_.dns != nullptr);
  tx.tls = conn_.tls();
  if (tx.tls) {
    tx.tls_version = conn_.tls_version();
    tx.tls_cipher = conn_.tls_cipher();
  }
  tx.from = mail_->from.is_null() ? "" : mail_->from.str();
  tx.smtputf8 = mail_->smtputf8;
  tx.eightbit = mail_->body == smtp::MailFrom::Body::EightBitMime;
  tx.requiretls = mail_->requiretls;
  tx.rcpts = std::move(rcpts_);
  tx.spf_header = spf_header_;
  tx.spf_result = spf_result_;
  tx.hops = hops;
  tx.capture = capturing();
  return tx;
}

asio::awaitable<Reply> Session::check_spf() {
  // RFC 7208 §2.4: the MAIL FROM domain, or the HELO name for a null sender.
  std::string domain = mail_->from.is_null() ? helo_ : mail_->from.domain;
  std::string sender = mail_->from.is_null() ? "" : mail_->from.str();
  spf::Outcome o = co_await spf::check_host(*deps_.dns, conn_.remote_address(), domain, sender,
                                            helo_, cfg_.hostname);
  deps_.metrics->spf(o.result).inc();
  base::log_info() << "session client=" << client_ip_ << " from=<" << sender
                   << "> spf=" << spf::to_string(o.result)
                   << " mechanism=" << base::log_quote(o.mechanism);
  if (o.result == spf::Result::Fail && cfg_.spf.reject_fail) {
    reject(deps_.metrics->rejected_spf);
    reset_transaction();
    // RFC 7372 §3.2: 5.7.23, SPF validation failed; the domain's explanation when it has one.
    std::string why = o.explanation.empty() ? "SPF check failed for " + domain : o.explanation;
    co_return Reply(550, "5.7.23", why);
  }
  spf_result_ = std::string(spf::to_string(o.result));
  spf_header_ = "Received-SPF: " +
                spf::received_spf(o, conn_.remote_address(), sender, helo_, cfg_.hostname) + "\r\n";
  co_return Reply(250, "2.1.0", "Ok");
}

asio::awaitable<std::optional<Reply>> Session::on_starttls(const smtp::Command& cmd) {
  if (conn_.tls()) {
    co_return error(Reply(503, "5.5.1", "TLS already active"));
  }
  if (!deps_.certs->has_tls()) {
    co_return error(Reply(454, "4.7.0", "TLS not available"));  // RFC 3207 §4
  }
  if (!cmd.arg.empty()) {
    co_return error(Reply(501, "5.5.4", "Syntax: STARTTLS"));
  }
  if (!co_await io_.send(Reply(220, "2.0.0", "Ready to start TLS"))) {
    co_return Reply(421, "4.4.2", "", true);
  }
  // RFC 3207 §4.2 / CVE-2011-0411: anything pipelined after STARTTLS was sent in the clear and
  // must not be executed inside the TLS session.
  io_.discard_input();
  // Bound to a name, not tested inside the `if`: GCC 12 miscompiled `if (!co_await start_tls())`
  // here (docs/architecture.md, "Rules learned the hard way").
  bool up = co_await start_tls();
  if (!up) {
    conn_.close();
    co_return std::nullopt;
  }
  deps_.metrics->tls_sessions.inc();
  // RFC 3207 §4.2: forget everything learned before TLS; the client starts over with EHLO.
  reset_transaction();
  phase_ = Phase::Connected;
  helo_.clear();
  esmtp_ = false;
  co_return std::nullopt;
}

// Whether AUTH may start now; every refusal counts as a protocol error.
std::optional<Reply> Session::check_auth() const {
  if (port_ == Port::Smtp) {
    return Reply(503, "5.5.1", "AUTH is available on the submission ports");
  }
  if (!auth_offered()) {
    // RFC 4954 §6: this mechanism needs an encrypted channel.
    return Reply(538, "5.7.11", "Encryption required for requested authentication mechanism");
  }
  if (phase_ == Phase::Connected) {
    return Reply(503, "5.5.1", "Send EHLO first");
  }
  if (!auth_user_.empty()) {
    return Reply(503, "5.5.1", "Already authenticated");  // RFC 4954 §4
  }
  if (phase_ != Phase::Greeted) {
    return Reply(503, "5.5.1", "AUTH not allowed during a mail transaction");
  }
  return std::nullopt;
}

// The session carries the SASL exchange's challenges and answers; the exchange decides.
asio::awaitable<Reply> Session::on_auth(const smtp::Command& cmd) {
  if (std::optional<Reply> refused = check_auth()) {
    co_return error(*refused);
  }
  if (!trusted_ && deps_.abuse != nullptr && deps_.abuse->auth_banned(conn_.remote_address())) {
    reject(deps_.metrics->rejected_auth_ban);
    base::log_info() << "session client=" << client_ip_ << " result=refused reason=auth-ban";
    // RFC 4954 §6: 454 4.7.0, temporary authentication failure.
    co_return error(Reply(454, "4.7.0", "Too many failed logins from your address, try later"));
  }
  using Kind = smtp::SaslStep::Kind;
  smtp::SaslExchange sasl;
  smtp::SaslStep step = sasl.start(cmd.arg);
  while (step.kind == Kind::Challenge) {
    timer_.wait_command();  // an answer is a line like a command: the same bounds apply
    std::optional<std::string> answer = co_await io_.challenge(step.reply);
    timer_.touch(cfg_.limits.command_timeout);
    step = answer ? sasl.respond(*answer) : sasl.abort();
  }
  if (step.kind == Kind::Credentials) {
    co_return co_await check_password(std::move(step.username), std::move(step.password));
  }
  if (step.kind == Kind::Malformed || step.kind == Kind::Unsupported) {
    co_return error(step.reply);
  }
  co_return step.reply;  // cancelled by the client, or aborted
}

asio::awaitable<Reply> Session::check_password(std::string username, std::string password) {
  std::shared_ptr<const domains::Domains> snapshot = deps_.domains->current();
  domains::AuthCache* cache =
      deps_.auth_cache != nullptr && deps_.auth_cache->enabled() ? deps_.auth_cache : nullptr;
  // A recent success with the same user and password against the same user database: no
  // scrypt. Only a correct password can hit; a wrong one always takes the full path below.
  std::optional<std::string> user;
  if (cache != nullptr) {
    user = cache->find(snapshot, username, password, std::chrono::steady_clock::now());
  }
  const bool hit = user.has_value();
  if (!hit) {
    // scrypt is deliberately slow: run it on the pool so other sessions keep moving.
    // A named function object, not a capturing lambda: GCC 12 miscompiles closures created
    // inside a co_await expression (their captures are destroyed twice).
    AuthCheck check{snapshot, username, password};
    std::optional<std::string> checked = co_await base::offload(*deps_.pool, std::move(check));
    user = std::move(checked);
    if (user && cache != nullptr) {
      cache->remember(snapshot, username, password, std::chrono::steady_clock::now());
    }
  }
  if (user) {
    auth_user_ = *user;
    slot_.release_per_ip();
    deps_.metrics->auth_ok.inc();
    if (hit) {
      deps_.metrics->auth_cache_hits.inc();
    }
    base::log_info() << "session client=" << client_ip_ << " auth=" << auth_user_
                     << " result=authenticated"
                     << (cache == nullptr ? ""
                         : hit            ? " cache=hit"
                                          : " cache=miss");
    co_return Reply(235, "2.7.0", "Authentication successful");
  }
  deps_.metrics->auth_failed.inc();
  base::log_info() << "session client=" << client_ip_ << " user=" << base::log_quote(username)
                   << " result=auth-failed";
  if (deps_.abuse != nullptr) {
    // Across connections: a growing wait before the 535 slows guessing from one address or for
    // one user name; a correct password never waits.
    auto delay = deps_.abuse->auth_failed(conn_.remote_address(), username, trusted_, cfg_.limits);
    if (delay.count() > 0) {
      co_await pause(delay);
    }
  }
  if (static_cast<size_t>(++auth_failures_) >= cfg_.limits.max_auth_failures) {
    co_return Reply(421, "4.7.0", cfg_.hostname + " Too many authentication failures", true);
  }
  co_return Reply(535, "5.7.8", "Authentication credentials invalid");  // RFC 4954 §6
}

}  // namespace

asio::awaitable<void> serve(std::unique_ptr<Transport> transport, Deps deps, Port port,
                            ConnectionSlot slot) {
  // The configuration in force now, kept by this session to its end (see Deps::cfg).
  std::shared_ptr<const config::Config> snapshot;
  if (deps.live_cfg != nullptr) {
    snapshot = *deps.live_cfg;
    deps.cfg = snapshot.get();
  }
  Drain::Running running(deps.drain, *transport);
  Session session(*transport, deps, port, slot);
  std::exception_ptr escaped;
  try {
    co_await session.run();
  } catch (...) {
    escaped = std::current_exception();
  }
  transport->close();
  co_await session.finish();
  slot.release();
  if (escaped) {
    std::rethrow_exception(escaped);  // logged by the listener's completion handler
  }
}

}  // namespace hk::server
