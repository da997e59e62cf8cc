// SmtpClient: session setup (greeting, EHLO, STARTTLS, AUTH), QUIT, and deliver_once(); the mail
// transaction itself is in smtp_transaction.cpp.
#include "lib/smtp_client/smtp_client.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "lib/base/base64.hpp"
#include "lib/base/log.hpp"
#include "lib/base/openssl.hpp"
#include "lib/smtp/auth.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using Status = queue::DeliveryResult::Status;

// QUIT has no RFC timeout; the mail is already delivered, so do not wait long for the 221.
constexpr std::chrono::seconds kQuitTimeout{10};

}  // namespace

const char* to_string(TlsResult r) {
  switch (r) {
    case TlsResult::Plain:
      return "plain";
    case TlsResult::Unverified:
      return "unverified";
    case TlsResult::Verified:
      return "verified";
    case TlsResult::Dane:
      return "dane";
  }
  return "plain";
}

std::string reply_text(const smtp::Reply& reply) {
  return reply_result(Status::Transient, reply).line();
}

queue::DeliveryResult reply_result(Status status, const smtp::Reply& reply) {
  queue::DeliveryResult out{status, reply.code, reply.enhanced, ""};
  for (const std::string& line : reply.lines) {
    if (!line.empty()) {
      out.text += out.text.empty() ? "" : " ";
      out.text += line;
    }
  }
  return out;
}

std::shared_ptr<asio::ssl::context> make_client_tls_context(const std::string& ca_file,
                                                            std::string& error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  // RFC 8996: TLS 1.0 and 1.1 are deprecated.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->set_verify_mode(asio::ssl::verify_none);
  int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(native)
                               : SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    error = "cannot load CA certificates" + (ca_file.empty() ? std::string() : " from " + ca_file) +
            ": " + base::openssl_error();
    return nullptr;
  }
  return ctx;
}

SmtpClient::SmtpClient(asio::any_io_executor ex, ClientOptions opts)
    : opts_(std::move(opts)), stream_(std::move(ex)) {}

SmtpClient::~SmtpClient() = default;

void SmtpClient::step(std::string name, bool ok, std::string detail) {
  steps_.push_back({std::move(name), ok, std::move(detail)});
}

boost::system::error_code SmtpClient::fail(Status status, std::string text,
                                           boost::system::error_code errc) {
  failure_ = {status, 0, "", std::move(text)};
  failure_ec_ = errc;
  ready_ = false;
  return errc;
}

boost::system::error_code SmtpClient::fail(Status status, const smtp::Reply& reply,
                                           boost::system::error_code errc) {
  failure_ = reply_result(status, reply);
  failure_ec_ = errc;
  ready_ = false;
  return errc;
}

asio::awaitable<std::optional<smtp::Reply>> SmtpClient::command(const std::string& line,
                                                                std::string_view what,
                                                                bool secret) {
  base::log_debug() << "smtp-client peer=" << stream_.peer()
                    << " send=" << base::log_quote(secret ? "(credentials)" : line);
  std::string wire = line + "\r\n";
  if (!co_await stream_.write(wire, opts_.command_timeout, what)) {
    co_return std::nullopt;
  }
  std::optional<smtp::Reply> r = co_await stream_.read_reply(opts_.command_timeout, what);
  if (r) {
    base::log_debug() << "smtp-client peer=" << stream_.peer()
                      << " reply=" << base::log_quote(reply_text(*r));
  }
  co_return r;
}

asio::awaitable<boost::system::error_code> SmtpClient::connect(const asio::ip::tcp::endpoint& ep) {
  steps_.clear();
  tls_fallback_.clear();
  // The awaits stay plain statements: GCC 12 miscompiled `if (co_await open(ep))` here (the
  // coroutine resumed with a wrong `this`).
  bool ok = co_await open(ep);
  if (!ok && failure_ec_ == ClientErrc::TlsFailed && opts_.tls == TlsMode::Opportunistic &&
      opts_.plaintext_retry) {
    // The handshake failed after the server agreed to STARTTLS, and nothing requires TLS here:
    // one more connection, in plaintext (see ClientOptions::plaintext_retry).
    tls_fallback_ = failure_.line();
    opts_.tls = TlsMode::None;
    ok = co_await open(ep);
  }
  co_return ok ? boost::system::error_code() : failure_ec_;
}

asio::awaitable<bool> SmtpClient::open(const asio::ip::tcp::endpoint& ep) {
  failure_ = {};
  failure_ec_.clear();
  ready_ = false;
  greeted_ = false;
  tls_ = TlsResult::Plain;
  ehlo_ = smtp::EhloInfo();
  const std::optional<asio::ip::address>& source =
      ep.address().is_v6() ? opts_.source_v6 : opts_.source_v4;
  boost::system::error_code ec = co_await stream_.connect(ep, opts_.connect_timeout, source);
  if (ec) {
    step("connect", false, stream_.error());
    fail(Status::Transient, stream_.error(), ec);
    co_return false;
  }
  step("connect", true, stream_.peer());
  if (!co_await setup()) {
    co_await quit();
    co_return false;
  }
  ready_ = true;
  co_return true;
}

asio::awaitable<bool> SmtpClient::setup() {
  if (opts_.tls == TlsMode::Implicit && !co_await start_tls()) {
    co_return false;
  }
  // RFC 5321 §4.5.3.2.1: 5 minutes for the greeting.
  std::optional<smtp::Reply> greeting =
      co_await stream_.read_reply(opts_.command_timeout, "greeting");
  greeted_ = greeting.has_value();
  if (!greeting) {
    step("greeting", false, stream_.error());
    fail(Status::Transient, stream_.error(), stream_.error_code());
    co_return false;
  }
  if (greeting->code != 220) {
    // RFC 5321 §3.1: 554 means no SMTP service here; the client sends QUIT. Another MX may serve.
    step("greeting", false, reply_text(*greeting));
    fail(Status::Transient, *greeting, ClientErrc::Rejected);
    co_return false;
  }
  step("greeting", true, reply_text(*greeting));
  if (!co_await hello()) {
    co_return false;
  }
  // Every mode but these two makes TLS mandatory.
  const bool optional = opts_.tls == TlsMode::Opportunistic || opts_.tls == TlsMode::None;
  bool want_tls = !optional || (opts_.tls == TlsMode::Opportunistic && ehlo_.starttls);
  if (want_tls && !stream_.tls()) {
    if (!ehlo_.starttls) {
      std::string text = "TLS required but " + stream_.peer() + " does not offer STARTTLS";
      step("starttls", false, text);
      fail(Status::Transient, text, ClientErrc::TlsUnavailable);
      co_return false;
    }
    std::optional<smtp::Reply> r = co_await command("STARTTLS", "STARTTLS reply");
    if (!r) {
      step("starttls", false, stream_.error());
      fail(Status::Transient, stream_.error(), stream_.error_code());
      co_return false;
    }
    if (r->code != 220) {
      step("starttls", false, reply_text(*r));
      if (!optional) {
        fail(Status::Transient, *r, ClientErrc::TlsUnavailable);
        co_return false;
      }
      // Opportunistic: the server declined and the session goes on in plaintext (RFC 3207 §4).
    } else {
      if (stream_.has_buffered_input()) {
        // RFC 3207 §4.2 / §6: anything after the 220 was sent in plaintext before TLS, a
        // man-in-the-middle injecting commands or replies into the TLS session.
        std::string text = "protocol error: " + stream_.peer() +
                           " sent data after its STARTTLS reply (RFC 3207 §4.2)";
        step("starttls", false, text);
        stream_.close();
        fail(Status::Transient, text, ClientErrc::ProtocolError);
        co_return false;
      }
      step("starttls", true, reply_text(*r));
      if (!co_await start_tls()) {
        co_return false;
      }
      // RFC 3207 §4.2: forget what the server said before TLS and ask again.
      ehlo_ = smtp::EhloInfo();
      if (!co_await hello()) {
        co_return false;
      }
    }
  }
  if (!opts_.username.empty() && !co_await authenticate()) {
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> SmtpClient::hello() {
  std::optional<smtp::Reply> r = co_await command("EHLO " + opts_.helo_name, "EHLO reply");
  if (!r) {
    step("ehlo", false, stream_.error());
    fail(Status::Transient, stream_.error(), stream_.error_code());
    co_return false;
  }
  if (r->code == 250) {
    ehlo_ = smtp::parse_ehlo(*r);
    std::string detail;
    for (size_t i = 1; i < r->lines.size(); ++i) {
      detail += (i > 1 ? " " : "") + r->lines[i];
    }
    step("ehlo", true, detail);
    co_return true;
  }
  std::string name = "ehlo";
  if (r->code / 100 == 5) {
    // RFC 5321 §3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
    step("ehlo", false, reply_text(*r));
    name = "helo";
    r = co_await command("HELO " + opts_.helo_name, "HELO reply");
    if (!r) {
      step(name, false, stream_.error());
      fail(Status::Transient, stream_.error(), stream_.error_code());
      co_return false;
    }
    if (r->code == 250) {
      ehlo_ = smtp::EhloInfo();
      step(name, true, reply_text(*r));
      co_return true;
    }
  }
  step(name, false, reply_text(*r));
  fail(Status::Transient, *r, ClientErrc::Rejected);
  co_return false;
}

asio::awaitable<bool> SmtpClient::start_tls() {
  if (!tls_ctx_) {
    tls_ctx_ = opts_.tls_context;
  }
  if (!tls_ctx_) {
    std::string error;
    tls_ctx_ = make_client_tls_context(opts_.ca_file, error);
    if (!tls_ctx_) {
      step("tls", false, error);
      fail(Status::Transient, error, ClientErrc::TlsFailed);
      co_return false;
    }
  }
  const bool dane = opts_.tls == TlsMode::Dane;
  boost::system::error_code ec = co_await stream_.handshake(
      *tls_ctx_, opts_.tls_name, opts_.command_timeout, dane ? &opts_.tlsa : nullptr);
  if (ec) {
    step("tls", false, stream_.error());
    fail(Status::Transient, stream_.error(), ClientErrc::TlsFailed);
    co_return false;
  }
  std::string why;
  bool ok = stream_.verified(why);
  tls_ = !ok ? TlsResult::Unverified : dane ? TlsResult::Dane : TlsResult::Verified;
  std::string name = opts_.tls_name.empty() ? std::string("(any name)") : opts_.tls_name;
  std::string detail = stream_.tls_version() + " " + stream_.tls_cipher() + ", certificate " +
                       (ok ? (dane ? "matches the TLSA records of " : "verified for ") + name
                           : "not verified: " + why);
  if (!ok && opts_.tls != TlsMode::Opportunistic && opts_.tls != TlsMode::Encrypt) {
    step("tls", false, detail);
    fail(Status::Transient,
         dane ? "DANE: the certificate of " + stream_.peer() +
                    " does not match the TLSA records of " + name + ": " + why
              : "TLS certificate of " + stream_.peer() + " not verified for " + name + ": " + why,
         ClientErrc::TlsUnverified);
    co_return false;
  }
  step("tls", true, detail);
  co_return true;
}

asio::awaitable<bool> SmtpClient::authenticate() {
  if (!stream_.tls() && opts_.tls != TlsMode::None) {
    std::string text = "AUTH not attempted: the connection to " + stream_.peer() +
                       " is not encrypted and credentials are never sent in plaintext";
    step("auth", false, text);
    fail(Status::Transient, text, ClientErrc::AuthRefusedPlaintext);
    co_return false;
  }
  bool plain = std::find(ehlo_.auth.begin(), ehlo_.auth.end(), "PLAIN") != ehlo_.auth.end();
  bool login = std::find(ehlo_.auth.begin(), ehlo_.auth.end(), "LOGIN") != ehlo_.auth.end();
  if (!plain && !login) {
    std::string text = stream_.peer() + " offers no AUTH PLAIN or LOGIN";
    step("auth", false, text);
    fail(Status::Transient, text, ClientErrc::AuthUnavailable);
    co_return false;
  }
  std::optional<smtp::Reply> r;
  if (plain) {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd, sent as the initial response (RFC 4954 §4).
    std::string msg;
    msg += '\0';
    msg += opts_.username;
    msg += '\0';
    msg += opts_.password;
    std::string encoded = base::base64_encode(msg);
    r = co_await command("AUTH PLAIN " + encoded, "AUTH reply", true);
    if (r && r->code == 334) {
      r = co_await command(encoded, "AUTH reply", true);
    }
  } else {
    r = co_await command("AUTH LOGIN", "AUTH reply");
    if (r && r->code == 334) {
      r = co_await command(base::base64_encode(opts_.username), "AUTH reply", true);
    }
    if (r && r->code == 334) {
      r = co_await command(base::base64_encode(opts_.password), "AUTH reply", true);
    }
  }
  std::string mech = plain ? "PLAIN" : "LOGIN";
  if (!r) {
    step("auth", false, stream_.error());
    fail(Status::Transient, stream_.error(), stream_.error_code());
    co_return false;
  }
  if (r->code == 235) {
    step("auth", true, mech + ": " + reply_text(*r));
    co_return true;
  }
  if (r->code == 334) {
    stream_.close();  // still mid-exchange: no QUIT would be understood
  }
  step("auth", false, mech + ": " + reply_text(*r));
  // RFC 4954 §6: 535 credentials invalid is permanent; 454 is a temporary failure.
  fail(r->code / 100 == 5 ? Status::Permanent : Status::Transient, *r, ClientErrc::AuthFailed);
  co_return false;
}

asio::awaitable<void> SmtpClient::quit() {
  ready_ = false;
  if (!stream_.is_open()) {
    co_return;
  }
  if (!greeted_) {
    // No session yet (e.g. implicit TLS refused after the handshake, before the greeting was
    // read): a QUIT now would be answered by the 220 greeting still in flight, read as its reply.
    stream_.close();
    co_return;
  }
  auto limit = std::min<std::chrono::steady_clock::duration>(opts_.command_timeout, kQuitTimeout);
  std::optional<smtp::Reply> r;
  if (co_await stream_.write("QUIT\r\n", limit, "QUIT")) {
    r = co_await stream_.read_reply(limit, "QUIT reply");
  }
  step("quit", r.has_value(), r ? reply_text(*r) : stream_.error());
  stream_.close();
}

asio::awaitable<TransactionResult> deliver_once(asio::any_io_executor ex, const ClientOptions& opts,
                                                const asio::ip::tcp::endpoint& ep,
                                                const std::string& from,
                                                const std::vector<std::string>& rcpts,
                                                const std::string& message, bool smtputf8,
                                                bool eightbit) {
  SmtpClient client(std::move(ex), opts);
  boost::system::error_code ec = co_await client.connect(ep);
  if (ec) {
    TransactionResult out;
    out.tls = client.tls();
    out.tls_version = client.tls_version();
    out.peer = client.peer();
    queue::DeliveryResult failed = client.failure();
    if (failed.code == 0 && failed.text.empty()) {
      failed = {Status::Transient, 0, "", "cannot set up an SMTP session with " + client.peer()};
    }
    out.rcpts.assign(rcpts.size(), failed);
    co_return out;
  }
  TransactionResult out = co_await client.send(from, rcpts, message, smtputf8, eightbit);
  co_await client.quit();
  co_return out;
}

}  // namespace hk::delivery
