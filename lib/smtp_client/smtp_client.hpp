// SmtpClient: one outgoing SMTP session (RFC 5321) to an MX host or a smart host — greeting,
// EHLO (HELO fallback), STARTTLS or implicit TLS with certificate verification, AUTH, then one or
// more mail transactions with PIPELINING when offered — and the probe behind `test-relay`.
// SECURITY: the peer is an untrusted remote server: replies are size-bounded and every step has a
// timeout; credentials are never sent in plaintext unless the configuration says tls = none.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/dns/answer.hpp"
#include "lib/dns/host_addresses.hpp"
#include "lib/queue/delivery_result.hpp"
#include "lib/smtp/client_reply.hpp"
#include "lib/smtp_client/client_error.hpp"
#include "lib/smtp_client/client_stream.hpp"

namespace hk::delivery {

enum class TlsMode {
  Opportunistic,  // STARTTLS when offered; an unverified certificate is accepted (RFC 3207 §4.1)
  Required,       // STARTTLS must be offered and the certificate must verify
  Implicit,       // TLS from the first byte (RFC 8314 §3.3); the certificate must verify
  None,           // never TLS
  // STARTTLS must be offered and the certificate must match ClientOptions::tlsa (RFC 7672 §3).
  Dane,
  // STARTTLS must be offered and succeed; the certificate is not checked (RFC 7672 §2.2: a
  // validated TLSA RRset of which no record is usable still makes TLS mandatory).
  Encrypt,
};

// Dane: the certificate matched validated TLSA records (RFC 7672 §3); Verified: it verified
// against our roots for the expected name.
enum class TlsResult { Plain, Unverified, Verified, Dane };

// Whether the peer was authenticated, by the roots or by DANE: what MTA-STS, REQUIRETLS and the
// per-domain TLS memory ask for (REQUIRETLS: RFC 8689 §4.2.1).
inline bool is_verified(TlsResult r) { return r == TlsResult::Verified || r == TlsResult::Dane; }
// "plain", "unverified", "verified", "dane": the tls= value of the delivery logs.
const char* to_string(TlsResult r);

struct ClientOptions {
  std::string helo_name;  // our host name, sent in EHLO/HELO
  TlsMode tls = TlsMode::Opportunistic;
  std::string tls_name;  // the name the certificate must match (MX host / relay host); SNI
  std::string ca_file;   // empty: the system roots
  // When set, used instead of a context built from ca_file for this client alone: build it once
  // with make_client_tls_context() and share it, since loading the system roots parses ~150
  // certificates each time.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  std::string username, password;  // AUTH PLAIN, or LOGIN when only that is offered
  // TlsMode::Dane: the validated TLSA records of the server (RFC 7672 §2.2), usable ones only.
  std::vector<dns::TlsaRecord> tlsa;
  // Opportunistic only: when the TLS handshake fails after the server's 220 to STARTTLS, connect
  // once more and go on without TLS, as Postfix does: an opportunistic sender would otherwise
  // never deliver to a server with a broken TLS stack (RFC 7435 §3). Set by the MX courier when
  // nothing (DANE, MTA-STS, the TLS memory) requires TLS.
  bool plaintext_retry = false;
  // RFC 5321 §4.5.3.2: connect (no RFC value), each command reply (5 minutes), data blocks and
  // the reply to the final dot (10 minutes).
  std::chrono::seconds connect_timeout{30}, command_timeout{300}, data_timeout{600};
  // The local address to connect from, per family of the peer; unset: the kernel's choice.
  std::optional<boost::asio::ip::address> source_v4, source_v6;
};

struct TransactionResult {
  std::vector<queue::DeliveryResult> rcpts;  // one per recipient, same order
  TlsResult tls = TlsResult::Plain;
  std::string tls_version;  // "TLSv1.3"; empty when plain
  std::string peer;         // "192.0.2.1:25"
  // The connection failed (lost, or a 421) before any recipient was accepted, so nothing was
  // delivered and the same transaction may be repeated on another connection.
  bool failed_before_rcpt = false;
  // A REQUIRETLS message was not sent because this server lacks verified TLS or REQUIRETLS
  // (RFC 8689 §4.2.1): nothing was sent, and another host may still qualify.
  bool requiretls_refused = false;
};

// One step of connect() as a human reads it (what `hikyaku-util test-relay` prints).
struct ProbeStep {
  std::string name;  // "connect", "greeting", "ehlo", "starttls", "tls", "auth", "quit"
  bool ok = false;
  std::string detail;
};

class SmtpClient {
 public:
  SmtpClient(boost::asio::any_io_executor ex, ClientOptions opts);
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;
  ~SmtpClient();

  // TCP connect, (implicit TLS,) greeting, EHLO, STARTTLS per the mode, EHLO again, AUTH.
  // Call once. On failure failure() tells what to do with the recipients.
  boost::asio::awaitable<boost::system::error_code> connect(
      const boost::asio::ip::tcp::endpoint& ep);
  // One mail transaction on a connected client; may be called again on the same connection
  // (an RSET goes first when the previous transaction stopped midway). Never throws for what the
  // peer or the network does; connection failures make every open recipient Transient.
  // `requiretls` (RFC 8689 §4.2.1): the message goes only over verified TLS (is_verified) to a
  // server that offers REQUIRETLS, with MAIL FROM … REQUIRETLS; else nothing is sent and every
  // recipient fails with 550 5.7.30 (and TransactionResult::requiretls_refused).
  boost::asio::awaitable<TransactionResult> send(const std::string& from,
                                                 const std::vector<std::string>& rcpts,
                                                 const std::string& message, bool smtputf8,
                                                 bool eightbit, bool requiretls = false);
  // QUIT (waiting briefly for the 221), then close. Safe to call in any state.
  boost::asio::awaitable<void> quit();
  // Closes the connection at once: the connect() or send() in progress ends as a connection
  // failure (every open recipient Transient). For the daemon's stop; safe in any state.
  void abort() { stream_.close(); }

  const smtp::EhloInfo& ehlo() const { return ehlo_; }
  // Why the last connect() or send() failed as a whole, e.g. "connection refused by 192.0.2.1:25"
  // or "535 5.7.8 Authentication credentials invalid"; empty when nothing failed.
  std::string last_error() const { return failure_.line(); }
  // The same with its class: Permanent only for a 5xx answer to AUTH.
  const queue::DeliveryResult& failure() const { return failure_; }
  TlsResult tls() const { return tls_; }
  // Why TLS was given up for the plaintext retry (see ClientOptions::plaintext_retry); empty
  // when it was not.
  const std::string& tls_fallback() const { return tls_fallback_; }
  std::string tls_version() const { return stream_.tls_version(); }
  const std::string& peer() const { return stream_.peer(); }
  const std::vector<ProbeStep>& steps() const { return steps_; }
  // Connected and between transactions, with nothing known to be wrong: another send() may
  // follow.
  bool reusable() const { return ready_ && stream_.is_open(); }
  // reusable(), and the server has sent nothing since the last reply (no 421, no close), seen
  // without blocking; for a session that sat idle.
  bool idle_usable() { return reusable() && stream_.quiet(); }

 private:
  // One try of connect(): TCP, then setup(); false with failure() set.
  boost::asio::awaitable<bool> open(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::awaitable<bool> setup();
  boost::asio::awaitable<bool> hello();
  boost::asio::awaitable<bool> start_tls();
  boost::asio::awaitable<bool> authenticate();
  boost::asio::awaitable<std::optional<smtp::Reply>> command(const std::string& line,
                                                             std::string_view what,
                                                             bool secret = false);
  boost::asio::awaitable<bool> send_body(const std::string& message);
  // send()'s steps (smtp_transaction.cpp), in the order they run.
  struct Progress;
  void decide_before_sending(Progress& p, bool not_ready, const std::string& from,
                             const std::vector<std::string>& rcpts, size_t size, bool smtputf8,
                             bool eightbit, bool requiretls) const;
  boost::asio::awaitable<void> reset_if_needed(Progress& p);
  boost::asio::awaitable<void> exchange(Progress& p);
  void on_mail_reply(Progress& p, const smtp::Reply& r);
  void on_rcpt_reply(Progress& p, size_t rcpt, const smtp::Reply& r);
  boost::asio::awaitable<void> on_data_reply(Progress& p, const std::string& message);
  void on_final_reply(Progress& p, const smtp::Reply& r, bool delivered);
  TransactionResult finish(Progress& p, TransactionResult out);
  // Records a whole-session failure, closes the connection, and returns `errc`.
  boost::system::error_code fail(queue::DeliveryResult::Status status, std::string text,
                                 boost::system::error_code errc);
  // The same for a failure the server's `reply` tells.
  boost::system::error_code fail(queue::DeliveryResult::Status status, const smtp::Reply& reply,
                                 boost::system::error_code errc);
  void step(std::string name, bool ok, std::string detail);

  ClientOptions opts_;
  ClientStream stream_;
  std::shared_ptr<boost::asio::ssl::context> tls_ctx_;
  smtp::EhloInfo ehlo_;
  bool ready_ = false;      // connected and between transactions
  bool greeted_ = false;    // the server's greeting was read: an SMTP session exists to QUIT
  bool need_rset_ = false;  // a transaction stopped midway
  TlsResult tls_ = TlsResult::Plain;
  queue::DeliveryResult failure_;  // Transient, no code, no text: nothing failed
  boost::system::error_code failure_ec_;
  std::vector<ProbeStep> steps_;
  std::string tls_fallback_;
};

// A TLS client context as SmtpClient needs it: TLS 1.2 or later, roots from `ca_file` (empty: the
// system's), and no verification failure inside the handshake (the client checks the result
// afterwards, so that opportunistic TLS can record an unverified certificate and go on).
// nullptr with `error` set when the roots cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file,
                                                                   std::string& error);

// RFC 8689 §5 / RFC 3463 (IANA registry): the status of a REQUIRETLS message that could not be
// sent because the path lacked verified TLS or REQUIRETLS support.
inline constexpr const char* kRequireTlsStatus = "5.7.30";

// The reply as one line of text for logs and DSNs: "550 5.1.1 no such user", lines joined by
// spaces.
std::string reply_text(const smtp::Reply& reply);
// The reply as a result of `status`: its code, enhanced code and text lines joined by spaces.
queue::DeliveryResult reply_result(queue::DeliveryResult::Status status, const smtp::Reply& reply);

// connect + send + quit; a failed connect gives every recipient failure() as its result.
boost::asio::awaitable<TransactionResult> deliver_once(boost::asio::any_io_executor ex,
                                                       const ClientOptions& opts,
                                                       const boost::asio::ip::tcp::endpoint& ep,
                                                       const std::string& from,
                                                       const std::vector<std::string>& rcpts,
                                                       const std::string& message, bool smtputf8,
                                                       bool eightbit);

// The test message `hikyaku-util test-relay --send-to` sends after the checks.
struct ProbeMessage {
  std::string from;                // the reverse-path
  std::vector<std::string> rcpts;  // the forward-paths
  std::string data;                // the whole message, CRLF line ends
};

// For `hikyaku-util test-relay`: resolves `host` through `dns` as delivery does
// (dns::host_addresses), connects to its addresses in turn, runs connect() (TLS and AUTH per
// `opts`), sends `message` when there is one, then QUIT, and reports each step ("resolve",
// "connect", ..., "auth", then "send" with the server's reply to the final dot, or the reply that
// refused the message). `opts.tls_name` defaults to `host`.
boost::asio::awaitable<std::vector<ProbeStep>> probe(boost::asio::any_io_executor ex,
                                                     ClientOptions opts, dns::Lookup& dns,
                                                     dns::AddressChoice choice, std::string host,
                                                     uint16_t port,
                                                     std::optional<ProbeMessage> message = {});

}  // namespace hk::delivery
