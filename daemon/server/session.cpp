// The SMTP session: greeting, then one command at a time until QUIT, a timeout or a dropped
// connection. Each verb has a check (sequence, permissions, syntax) that replies before any side
// effect, and only then acts.
#include "daemon/server/session.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <ctime>
#include <optional>

#include "certs/cert_store.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "daemon/server/message_checks.hpp"
#include "daemon/server/received.hpp"
#include "daemon/server/server_metrics.hpp"
#include "domains/domains.hpp"
#include "domains/watcher.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/config/config.hpp"
#include "lib/dkim/auth_results.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/dkim/verify_dns.hpp"
#include "lib/smtp/auth.hpp"
#include "lib/smtp/command.hpp"
#include "lib/smtp/data_reader.hpp"
#include "lib/smtp/line_buffer.hpp"
#include "lib/smtp/params.hpp"
#include "lib/smtp/reply.hpp"
#include "lib/spf/check_host.hpp"

namespace hk::server {

using smtp::Reply;
using smtp::Verb;
using namespace std::chrono_literals;

const char* port_name(Port p) {
  switch (p) {
    case Port::Smtp:
      return "smtp";
    case Port::Submission:
      return "submission";
    case Port::SubmissionTls:
      return "submission_tls";
  }
  return "?";
}

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// RFC 5321 §4.5.3.1.4 allows 512 octets per command line; extensions (SIZE, SMTPUTF8, AUTH
// initial responses) make that too small, so hikyaku accepts up to 1000 octets, CRLF included.
constexpr size_t kMaxCommandLine = 1000;
// Commands that fail before the client is told to go away (a scanner, a confused client).
constexpr int kMaxErrors = 20;
// The extensions whose MAIL/RCPT parameters we accept; DSN (RFC 3461) is not advertised yet.
const smtp::Extensions kExtensions{
    .size = true, .eightbitmime = true, .smtputf8 = true, .auth = true, .dsn = false};

// The password check handed to the worker pool.
struct AuthCheck {
  std::shared_ptr<const domains::Domains> domains;
  std::string username;
  std::string password;
  std::optional<std::string> operator()() const {
    return domains->authenticate(username, password);
  }
};

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

// Transaction state (RFC 5321 §3.3): where we are between HELO and the end of DATA.
enum class Phase { Connected, Greeted, Mail, Rcpt };

class Session {
 public:
  Session(Connection& conn, Deps deps, Port port)
      : conn_(conn),
        deps_(deps),
        cfg_(*deps.cfg),
        port_(port),
        lines_(kMaxCommandLine),
        started_(std::chrono::steady_clock::now()),
        end_of_life_(started_ + cfg_.limits.connection_timeout),
        timer_(conn.executor()) {
    client_ip_ = conn_.remote_address().to_string();
    for (const auto& net : cfg_.trusted_networks) {
      if (net.contains(conn_.remote_address())) {
        trusted_ = true;
        break;
      }
    }
    touch(cfg_.limits.command_timeout);
  }

  asio::awaitable<void> run();
  // Stops the timeout timer and waits until no timer handler can refer to this session.
  asio::awaitable<void> finish();

 private:
  // ---- I/O ----
  // Timeouts (RFC 5321 §4.5.3.2): one deadline per session, moved by every command; a plain
  // timer handler (not a second coroutine) enforces it, since idle sessions must stay small.
  void touch(std::chrono::seconds timeout);
  void arm_timer();
  void on_timer(const boost::system::error_code& ec);
  asio::awaitable<std::optional<smtp::Line>> read_line();
  asio::awaitable<bool> send(const Reply& r);
  asio::awaitable<bool> flush();

  // ---- verbs ----
  Reply on_helo(const smtp::Command& cmd, bool esmtp);
  Reply on_mail(const smtp::Command& cmd);
  // RFC 7208 for strangers on port 25: records the result for a Received-SPF header and, with
  // [spf] reject_fail, refuses a "fail" at MAIL FROM.
  bool needs_spf() const {
    return port_ == Port::Smtp && auth_user_.empty() && !trusted_ && deps_.dns != nullptr;
  }
  asio::awaitable<Reply> check_spf();
  Reply on_rcpt(const smtp::Command& cmd);
  Reply on_rset();
  asio::awaitable<Reply> on_data();
  asio::awaitable<std::optional<Reply>> on_starttls(const smtp::Command& cmd);
  asio::awaitable<Reply> on_auth(const smtp::Command& cmd);
  asio::awaitable<std::optional<std::string>> challenge(const char* text);
  asio::awaitable<Reply> store(std::string message, int hops);

  bool auth_offered() const;
  bool needs_auth() const { return port_ != Port::Smtp && auth_user_.empty() && !trusted_; }
  bool may_relay() const { return !auth_user_.empty() || trusted_; }
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

  Connection& conn_;
  Deps deps_;
  const config::Config& cfg_;
  Port port_;
  smtp::LineBuffer lines_;
  std::string out_;  // replies not yet written (PIPELINING, RFC 2920 §3.1)
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point end_of_life_;
  std::chrono::steady_clock::time_point deadline_;
  asio::steady_timer timer_;
  bool finished_ = false;
  std::string client_ip_;
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
};

asio::awaitable<std::optional<smtp::Line>> Session::read_line() {
  for (;;) {
    if (auto line = lines_.next()) {
      co_return line;
    }
    if (!out_.empty() && !co_await flush()) {
      co_return std::nullopt;
    }
    boost::system::error_code ec;
    std::string_view got = co_await conn_.read_some(ec);
    if (ec) {
      co_return std::nullopt;
    }
    lines_.append(got);
  }
}

asio::awaitable<bool> Session::flush() {
  std::string out;
  out.swap(out_);
  auto ec = co_await conn_.write(out);
  co_return !ec;
}

asio::awaitable<bool> Session::send(const Reply& r) {
  out_ += r.wire();
  co_return co_await flush();
}

Reply Session::error(Reply r) {
  if (++errors_ >= kMaxErrors) {
    return Reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing connection", true);
  }
  return r;
}

bool Session::auth_offered() const {
  if (port_ == Port::Smtp) {
    return false;  // AUTH belongs on the submission ports (RFC 6409 §4.3)
  }
  if (conn_.tls()) {
    return true;
  }
  // Plaintext AUTH only when the administrator allows it for trusted loopback clients.
  return cfg_.allow_plain_auth_from_trusted && trusted_ && conn_.remote_address().is_loopback();
}

void Session::touch(std::chrono::seconds timeout) {
  auto old = std::min(deadline_, end_of_life_);
  deadline_ = std::chrono::steady_clock::now() + timeout;
  // A later deadline is noticed when the armed timer fires; an earlier one re-arms it now.
  if (std::min(deadline_, end_of_life_) < old || old == std::chrono::steady_clock::time_point{}) {
    arm_timer();
  }
}

void Session::arm_timer() {
  timer_.expires_at(std::min(deadline_, end_of_life_));
  timer_.async_wait([this](const boost::system::error_code& ec) { on_timer(ec); });
}

void Session::on_timer(const boost::system::error_code& ec) {
  if (ec || finished_) {
    return;  // cancelled or re-armed, or the session is over
  }
  if (std::chrono::steady_clock::now() < std::min(deadline_, end_of_life_)) {
    arm_timer();
    return;
  }
  // RFC 5321 §4.5.3.2: the server may close after its timeout; tell the client why. Closing the
  // socket ends the read the session is waiting in.
  base::log_info() << "session client=" << client_ip_ << " result=timeout";
  deps_.metrics->session_timeouts.inc();
  conn_.abort("421 4.4.2 " + cfg_.hostname + " Timeout exceeded, closing connection\r\n");
}

asio::awaitable<void> Session::finish() {
  finished_ = true;
  timer_.cancel();
  // A handler already queued runs before this post completes (one FIFO I/O thread) and sees
  // finished_; after it, no handler can refer to the session.
  co_await asio::post(timer_.get_executor(), asio::use_awaitable);
}

asio::awaitable<void> Session::run() {
  if (port_ == Port::SubmissionTls) {
    auto ec = co_await conn_.start_tls(deps_.certs->context());
    if (ec) {
      base::log_info() << "session client=" << client_ip_
                       << " result=tls-failed error=" << base::log_quote(ec.message());
      deps_.metrics->tls_handshake_failures.inc();
      co_return;
    }
  }
  // RFC 5321 §4.2: the greeting names the server; ESMTP announces extension support.
  if (!co_await send(Reply(220, "", cfg_.hostname + " ESMTP hikyaku"))) {
    co_return;
  }
  for (;;) {
    touch(cfg_.limits.command_timeout);
    std::optional<smtp::Line> line = co_await read_line();
    if (!line) {
      co_return;
    }
    Reply r;
    if (line->too_long) {
      r = error(Reply(500, "5.5.2", "Line too long"));  // RFC 5321 §4.5.3.1.4
    } else {
      smtp::Command cmd = smtp::parse_command(line->text);
      if (!cmd.syntax_ok) {
        r = smtp::syntax_reply(cmd.verb);  // sent by the Unknown case below
        cmd.verb = Verb::Unknown;
      }
      switch (cmd.verb) {
        case Verb::Ehlo:
          r = on_helo(cmd, true);
          break;
        case Verb::Helo:
          r = on_helo(cmd, false);
          break;
        case Verb::Mail:
          r = on_mail(cmd);
          if (r.positive() && needs_spf()) {
            r = co_await check_spf();
          }
          break;
        case Verb::Rcpt:
          r = on_rcpt(cmd);
          break;
        case Verb::Data:
          r = co_await on_data();
          break;
        case Verb::Rset:
          r = on_rset();
          break;
        case Verb::Noop:
          r = Reply(250, "2.0.0", "Ok");
          break;
        case Verb::Quit:
          r = Reply(221, "2.0.0", cfg_.hostname + " Bye", true);
          break;
        case Verb::Vrfy:
          // RFC 5321 §3.5.3: 252 says "cannot verify" without revealing whether the user exists.
          r = Reply(252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
          break;
        case Verb::Expn:
          r = error(Reply(502, "5.5.1", "EXPN not available"));
          break;
        case Verb::Help:
          r = Reply(214, "2.0.0", "See RFC 5321; hikyaku https://example.invalid/hikyaku");
          r.lines[0] = "hikyaku: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS AUTH";
          break;
        case Verb::StartTls: {
          auto tr = co_await on_starttls(cmd);
          if (!tr) {
            continue;  // TLS is up (or the connection is gone); the client speaks next
          }
          r = *tr;
          break;
        }
        case Verb::Auth:
          r = co_await on_auth(cmd);
          break;
        case Verb::Bdat:
          r = error(Reply(502, "5.5.1", "CHUNKING not offered"));  // RFC 3030 not advertised
          break;
        case Verb::Unknown:
          r = error(cmd.syntax_ok ? Reply(500, "5.5.2", "Command not recognized") : r);
          break;
      }
    }
    out_ += r.wire();
    if (r.close) {
      co_await flush();
      co_return;
    }
  }
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
  r.lines.push_back("SIZE " + std::to_string(cfg_.limits.max_message_size));  // RFC 1870
  r.lines.push_back("8BITMIME");                                              // RFC 6152
  r.lines.push_back("PIPELINING");                                            // RFC 2920
  r.lines.push_back("SMTPUTF8");                                              // RFC 6531
  r.lines.push_back("ENHANCEDSTATUSCODES");                                   // RFC 2034
  if (!conn_.tls() && deps_.certs->has_tls()) {
    r.lines.push_back("STARTTLS");  // RFC 3207
  }
  if (auth_offered() && auth_user_.empty()) {
    r.lines.push_back("AUTH PLAIN LOGIN");  // RFC 4954
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
  const std::string sender = m.from.is_null() ? "" : m.from.str();
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
    bool ok = false;
    for (const auto& d : cfg_.trusted_sender_domains) {
      ok = ok || d == m.from.domain;
    }
    if (!ok) {
      reject(deps_.metrics->rejected_sender);
      return error(Reply(553, "5.7.1", "Sender domain not allowed from this network"));
    }
  }
  mail_ = std::move(m);
  phase_ = Phase::Mail;
  return Reply(250, "2.1.0", "Ok");
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
  auto doms = deps_.domains->current();
  if (to.domain.empty()) {
    // RFC 5321 §4.5.1: <postmaster> without a domain must be accepted.
    to.domain = doms->is_local(cfg_.hostname) ? cfg_.hostname : "";
    if (to.domain.empty()) {
      auto names = doms->domain_names();
      if (!names.empty()) {
        to.domain = names.front();
      }
    }
  }
  const std::string original = to.str();
  if (!to.domain.empty() && doms->is_local(to.domain)) {
    domains::Resolution res = doms->resolve(to.local, to.domain);
    if (!res.error.empty()) {
      base::log_warn() << "session client=" << client_ip_ << " rcpt=" << base::log_quote(original)
                       << " result=alias-error error=" << base::log_quote(res.error);
      return Reply(451, "4.3.0", "Local configuration error resolving recipient");
    }
    if (res.targets.empty()) {
      reject(deps_.metrics->rejected_unknown_user);
      return error(Reply(550, "5.1.1", "No such user here"));
    }
    for (const auto& t : res.targets) {
      bool dup = false;
      for (const auto& r : rcpts_) {
        dup = dup || r.address == t.address;
      }
      if (!dup) {
        queue::Recipient rc;
        rc.address = t.address;
        rc.original = original;
        rc.local = t.kind == domains::Resolution::Kind::LocalUser;
        rcpts_.push_back(std::move(rc));
      }
    }
  } else {
    if (!may_relay()) {
      reject(deps_.metrics->rejected_relay);
      base::log_info() << "session client=" << client_ip_ << " rcpt=" << base::log_quote(original)
                       << " result=rejected reason=relay";
      return error(Reply(550, "5.7.1", "Relaying denied"));
    }
    queue::Recipient rc;
    rc.address = original;
    rc.original = original;
    rc.local = false;
    rcpts_.push_back(std::move(rc));
  }
  ++rcpt_count_;
  phase_ = Phase::Rcpt;
  return Reply(250, "2.1.5", "Ok");
}

asio::awaitable<Reply> Session::on_data() {
  if (phase_ == Phase::Mail) {
    co_return error(Reply(554, "5.5.1", "No valid recipients"));  // RFC 5321 §3.3
  }
  if (phase_ != Phase::Rcpt) {
    co_return error(Reply(503, "5.5.1", "Need RCPT command first"));
  }
  if (!co_await send(Reply(354, "", "End data with <CR><LF>.<CR><LF>"))) {
    co_return Reply(421, "4.4.2", "", true);
  }
  // RFC 5321 §4.5.3.2.5/6: generous time for the data, bounded overall.
  touch(cfg_.limits.data_timeout);
  smtp::DataReader reader(cfg_.limits.max_message_size);
  // Bytes already buffered behind DATA belong to the message; bytes behind the final dot are the
  // next pipelined commands (RFC 2920 §3.1) and go back to the line buffer.
  std::string pending = lines_.take_rest();
  size_t used = reader.feed(pending);
  if (reader.done()) {
    lines_.append(std::string_view(pending).substr(used));
  }
  while (!reader.done()) {
    boost::system::error_code ec;
    std::string_view chunk = co_await conn_.read_some(ec);
    if (ec) {
      // Dropped before the final dot: nothing was stored, nothing is left behind.
      base::log_info() << "session client=" << client_ip_ << " result=dropped-in-data";
      co_return Reply(421, "4.4.2", "", true);
    }
    used = reader.feed(chunk);
    if (reader.done()) {
      lines_.append(chunk.substr(used));
    }
  }
  touch(cfg_.limits.command_timeout);
  if (reader.error() != smtp::DataReader::Error::None) {
    reject(reader.error() == smtp::DataReader::Error::TooBig
               ? deps_.metrics->rejected_size
               : deps_.metrics->rejected_bare_line_ending);
    reset_transaction();
    co_return smtp::reply_for(reader.error());
  }
  int hops = reader.received_count();
  Reply r = co_await store(std::move(reader.body()), hops);
  reset_transaction();
  co_return r;
}

asio::awaitable<Reply> Session::store(std::string body, int hops) {
  if (hops >= cfg_.limits.max_received_headers) {
    reject(deps_.metrics->rejected_loop);
    co_return Reply(554, "5.4.6", "Too many hops, mail loop suspected");  // RFC 5321 §6.3
  }
  const bool submission = may_relay();
  if (!auth_user_.empty()) {
    auto doms = deps_.domains->current();
    for (const auto& addr : header_from_addresses(body)) {
      auto at = addr.rfind('@');
      std::string local = at == std::string::npos ? addr : addr.substr(0, at);
      std::string domain = at == std::string::npos ? "" : addr.substr(at + 1);
      if (!doms->may_send_as(auth_user_, local, domain)) {
        reject(deps_.metrics->rejected_from_header);
        co_return Reply(550, "5.7.1",
                        "From: header address <" + addr + "> not allowed for user " + auth_user_);
      }
    }
  }
  queue::Envelope env;
  env.id = queue::QueueStore::new_id();
  env.created = std::chrono::system_clock::now();
  env.from = mail_->from.is_null() ? "" : mail_->from.str();
  env.rcpts = std::move(rcpts_);
  env.client_ip = client_ip_;
  env.helo = helo_;
  env.auth_user = auth_user_;
  env.smtputf8 = mail_->smtputf8;
  env.eightbit = mail_->body == smtp::MailFrom::Body::EightBitMime;

  TraceInfo trace;
  trace.helo = helo_;
  trace.client_ip = client_ip_;
  trace.hostname = cfg_.hostname;
  trace.id = env.id;
  trace.for_rcpt = env.rcpts.size() == 1 ? env.rcpts.front().original : "";
  trace.esmtp = esmtp_;
  trace.tls = conn_.tls();
  trace.authenticated = !auth_user_.empty();
  if (trace.tls) {
    trace.tls_version = conn_.tls_version();
    trace.tls_cipher = conn_.tls_cipher();
  }
  const std::time_t now = std::chrono::system_clock::to_time_t(env.created);
  std::string message;
  if (needs_spf() && deps_.dns != nullptr) {
    // Incoming mail from strangers: DKIM signatures are checked (keys through our resolver) and
    // recorded with SPF in Authentication-Results (RFC 8601); a failure never refuses the mail.
    // Keys come through our resolver; the hashing runs on the pool (big messages take long).
    std::vector<dkim::DkimVerifyResult> dkim_results =
        co_await dkim::verify_message(*deps_.dns, body, 5, deps_.pool);
    message = dkim::authentication_results(cfg_.hostname, dkim_results, spf_result_, env.from);
  }
  message += spf_header_ + received_header(trace, now);
  if (submission) {
    // RFC 6409 §8.2/§8.3: a submission server may add a missing Date and Message-ID.
    message += missing_submission_headers(body, env.id, cfg_.hostname, rfc5322_date(now));
  }
  message += body;
  body.clear();
  body.shrink_to_fit();
  if (submission && deps_.dkim_keys != nullptr) {
    // RFC 6376: sign as the RFC5322.From domain when it has keys, with every key it has, before
    // queueing, so that every recipient and every retry carries the same signatures.
    auto from = header_from_addresses(message);
    auto keys = deps_.dkim_keys->current();
    std::string domain = from.empty() ? "" : from.front().substr(from.front().rfind('@') + 1);
    if (!domain.empty() && keys->count(domain) != 0) {
      SignWork work{deps_.dkim_signer, &message, keys, domain};
      auto [headers, errors] = co_await base::offload(*deps_.pool, std::move(work));
      for (const auto& e : errors) {
        base::log_error() << "id=" << env.id << " dkim=error domain=" << domain
                          << " error=" << base::log_quote(e);
      }
      (headers.empty() ? deps_.metrics->dkim_error : deps_.metrics->dkim_signed).inc();
      message.insert(0, headers);
    }
  }

  // Mail only for local mailboxes is delivered before the reply, in the queue's group commit,
  // instead of being queued and delivered later: half the disk work for the same durability.
  // If that fails, nothing was delivered and the message takes the queue like any other.
  bool all_local = std::all_of(env.rcpts.begin(), env.rcpts.end(),
                               [](const queue::Recipient& r) { return r.local; });
  bool delivered = false;
  std::error_code ec;
  if (all_local) {
    ec = co_await deps_.store->deliver_local(env, message, cfg_.mail_dir(), cfg_.hostname);
    delivered = !ec;
    if (ec) {
      base::log_warn() << "id=" << env.id
                       << " result=local-delivery-failed error=" << base::log_quote(ec.message())
                       << " action=queue";
    }
  }
  if (!delivered) {
    ec = co_await deps_.store->put(env, message);
  }
  if (ec) {
    base::log_error() << "id=" << env.id << " client=" << client_ip_
                      << " result=queue-error error=" << base::log_quote(ec.message());
    deps_.metrics->queue_write_errors.inc();
    co_return Reply(451, "4.3.0", "Temporary failure storing the message, try again later");
  }
  deps_.metrics->accepted.inc();
  deps_.metrics->accepted_bytes.inc(message.size());
  if (delivered) {
    deps_.metrics->delivered_maildir.inc(env.rcpts.size());
  }
  {
    auto line = base::log_info();
    line << "id=" << env.id << " from=<" << env.from << "> client=" << client_ip_
         << " port=" << port_name(port_) << " size=" << message.size() << " rcpts=";
    for (size_t i = 0; i < env.rcpts.size(); ++i) {
      line << (i ? "," : "") << env.rcpts[i].address;
    }
    if (!auth_user_.empty()) {
      line << " auth=" << auth_user_;
    }
    line << " tls=" << (conn_.tls() ? "yes" : "no")
         << (delivered ? " result=delivered" : " result=queued");
  }
  if (delivered) {
    // Same words as a queued message: clients and log scrapers look for "queued as".
    co_return Reply(250, "2.0.0", "Ok: queued as " + trace.id);
  }
  deps_.queue->enqueued(std::move(env));
  co_return Reply(250, "2.0.0", "Ok: queued as " + trace.id);
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
  if (!co_await send(Reply(220, "2.0.0", "Ready to start TLS"))) {
    co_return Reply(421, "4.4.2", "", true);
  }
  // RFC 3207 §4.2 / CVE-2011-0411: anything pipelined after STARTTLS was sent in the clear and
  // must not be executed inside the TLS session.
  lines_.take_rest();
  auto ec = co_await conn_.start_tls(deps_.certs->context());
  if (ec) {
    base::log_info() << "session client=" << client_ip_
                     << " result=tls-failed error=" << base::log_quote(ec.message());
    deps_.metrics->tls_handshake_failures.inc();
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

// Sends a 334 challenge and reads the client's one-line answer (RFC 4954 §4).
asio::awaitable<std::optional<std::string>> Session::challenge(const char* text) {
  if (!co_await send(Reply(334, "", text))) {
    co_return std::nullopt;
  }
  auto line = co_await read_line();
  if (!line || line->too_long) {
    co_return std::nullopt;
  }
  co_return line->text;
}

asio::awaitable<Reply> Session::on_auth(const smtp::Command& cmd) {
  if (port_ == Port::Smtp) {
    co_return error(Reply(503, "5.5.1", "AUTH is available on the submission ports"));
  }
  if (!auth_offered()) {
    // RFC 4954 §6: this mechanism needs an encrypted channel.
    co_return error(
        Reply(538, "5.7.11", "Encryption required for requested authentication mechanism"));
  }
  if (phase_ == Phase::Connected) {
    co_return error(Reply(503, "5.5.1", "Send EHLO first"));
  }
  if (!auth_user_.empty()) {
    co_return error(Reply(503, "5.5.1", "Already authenticated"));  // RFC 4954 §4
  }
  if (phase_ != Phase::Greeted) {
    co_return error(Reply(503, "5.5.1", "AUTH not allowed during a mail transaction"));
  }
  std::string mech = cmd.arg.substr(0, cmd.arg.find(' '));
  std::string initial = cmd.arg.size() > mech.size() ? cmd.arg.substr(mech.size() + 1) : "";
  for (auto& c : mech) {
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  }
  std::string username, password;
  if (mech == "PLAIN") {
    if (initial.empty()) {
      auto resp = co_await challenge("");
      if (!resp) {
        co_return Reply(501, "5.5.2", "Authentication aborted", true);
      }
      initial = *resp;
    }
    if (initial == "*") {
      co_return Reply(501, "5.0.0", "Authentication cancelled");
    }
    auto creds = smtp::decode_auth_plain(initial == "=" ? "" : initial);
    if (!creds) {
      co_return error(Reply(501, "5.5.2", "Malformed AUTH PLAIN response"));
    }
    username = creds->authcid;
    password = creds->password;
  } else if (mech == "LOGIN") {
    std::string user64 = initial;
    if (user64.empty()) {
      auto resp = co_await challenge("VXNlcm5hbWU6");  // "Username:"
      if (!resp) {
        co_return Reply(501, "5.5.2", "Authentication aborted", true);
      }
      user64 = *resp;
    }
    if (user64 == "*") {
      co_return Reply(501, "5.0.0", "Authentication cancelled");
    }
    auto pass64 = co_await challenge("UGFzc3dvcmQ6");  // "Password:"
    if (!pass64) {
      co_return Reply(501, "5.5.2", "Authentication aborted", true);
    }
    if (*pass64 == "*") {
      co_return Reply(501, "5.0.0", "Authentication cancelled");
    }
    auto u = smtp::base64_decode(user64);
    auto p = smtp::base64_decode(*pass64);
    if (!u || !p) {
      co_return error(Reply(501, "5.5.2", "Malformed AUTH LOGIN response"));
    }
    username = *u;
    password = *p;
  } else {
    co_return error(Reply(504, "5.5.4", "Unrecognized authentication type"));
  }
  // scrypt is deliberately slow: run it on the pool so other sessions keep moving.
  // A named function object, not a capturing lambda: GCC 12 miscompiles closures created inside
  // a co_await expression (their captures are destroyed twice).
  AuthCheck check{deps_.domains->current(), username, std::move(password)};
  std::optional<std::string> user = co_await base::offload(*deps_.pool, std::move(check));
  if (user) {
    auth_user_ = *user;
    deps_.metrics->auth_ok.inc();
    base::log_info() << "session client=" << client_ip_ << " auth=" << auth_user_
                     << " result=authenticated";
    co_return Reply(235, "2.7.0", "Authentication successful");
  }
  deps_.metrics->auth_failed.inc();
  base::log_info() << "session client=" << client_ip_ << " user=" << base::log_quote(username)
                   << " result=auth-failed";
  if (static_cast<size_t>(++auth_failures_) >= cfg_.limits.max_auth_failures) {
    co_return Reply(421, "4.7.0", cfg_.hostname + " Too many authentication failures", true);
  }
  co_return Reply(535, "5.7.8", "Authentication credentials invalid");  // RFC 4954 §6
}

}  // namespace

asio::awaitable<void> serve(Connection conn, Deps deps, Port port, ConnectionSlot slot) {
  Session session(conn, deps, port);
  std::exception_ptr escaped;
  try {
    co_await session.run();
  } catch (...) {
    escaped = std::current_exception();
  }
  conn.close();
  co_await session.finish();
  slot.release();
  if (escaped) {
    std::rethrow_exception(escaped);  // logged by the listener's completion handler
  }
}

}  // namespace hk::server
