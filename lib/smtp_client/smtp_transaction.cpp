// SmtpClient::send(): one mail transaction — MAIL, RCPT per recipient, DATA (pipelined when
// the server offers PIPELINING), the message, and a result per recipient. send() reads as the
// steps: what is decided before anything is sent, the batch of commands, then one function per
// reply it handles.
#include <algorithm>
#include <optional>
#include <utility>

#include "lib/base/log.hpp"
#include "lib/smtp_client/data_encoder.hpp"
#include "lib/smtp_client/smtp_client.hpp"

namespace hk::delivery {
namespace {

namespace asio = boost::asio;
using Status = queue::DeliveryResult::Status;

// Commands sent in one write with PIPELINING (RFC 2920 §3.1). A bound keeps a long recipient list
// from filling both directions' buffers at once, the deadlock RFC 2920 §4 warns about; 100 is the
// number of recipients every server must accept (RFC 5321 §4.5.3.1.8).
constexpr size_t kPipelineBatch = 100;
// Message data is encoded and written this much at a time.
constexpr size_t kBodyChunk = 64 * 1024;
// RFC 5321 §4.5.3.1.3: a reverse-path or forward-path is at most 256 octets.
constexpr size_t kMaxPath = 256;

queue::DeliveryResult from_reply(const smtp::Reply& r) {
  Status s = r.code / 100 == 2   ? Status::Delivered
             : r.code / 100 == 5 ? Status::Permanent
                                 : Status::Transient;
  return reply_result(s, r);
}

// An address we may put between "<" and ">" without changing the command's meaning.
bool safe_path(const std::string& a) {
  return a.size() <= kMaxPath &&
         a.find_first_of(std::string_view("\r\n\0<>", 5)) == std::string::npos;
}

void decide_open(std::vector<std::optional<queue::DeliveryResult>>& decided,
                 const queue::DeliveryResult& result) {
  for (auto& d : decided) {
    if (!d) {
      d = result;
    }
  }
}

// RFC 8689 §4.2.1: a REQUIRETLS message goes only over verified TLS to a server that offers
// REQUIRETLS; §5: when no host qualifies, it is returned with 5.7.30.
std::optional<queue::DeliveryResult> refuse_requiretls(const smtp::EhloInfo& ehlo, TlsResult tls,
                                                       const std::string& peer) {
  if (is_verified(tls) && ehlo.requiretls) {
    return std::nullopt;
  }
  const char* why = tls == TlsResult::Plain ? "no TLS with "
                    : !is_verified(tls)     ? "the certificate is not verified for "
                                            : "REQUIRETLS is not offered by ";
  return queue::DeliveryResult{Status::Permanent, 550, kRequireTlsStatus,
                               std::string("REQUIRETLS support required: ") + why + peer};
}

// What the message needs and the server lacks, decided before a command is sent.
std::optional<queue::DeliveryResult> refuse_locally(const smtp::EhloInfo& ehlo,
                                                    const std::string& peer,
                                                    const std::string& from, size_t size,
                                                    bool smtputf8, bool eightbit) {
  if (!safe_path(from)) {
    return queue::DeliveryResult{Status::Permanent, 501, "5.1.7", "invalid sender address"};
  }
  if (smtputf8 && !ehlo.smtputf8) {
    // RFC 6531 §3.4: without the extension the message cannot be sent (5.6.7, RFC 6531 §3.6.2 /
    // RFC 6533 §3.4.2); hikyaku attempts no downgrade.
    return queue::DeliveryResult{Status::Permanent, 554, "5.6.7",
                                 "SMTPUTF8 is required, but " + peer + " does not offer it"};
  }
  if (eightbit && !ehlo.eightbitmime) {
    // RFC 6152 §3: convert to 7 bit or return the message; hikyaku does not convert.
    return queue::DeliveryResult{Status::Permanent, 554, "5.6.3",
                                 "8BITMIME is required, but " + peer + " does not offer it"};
  }
  if (ehlo.size && *ehlo.size > 0 && size > *ehlo.size) {
    // RFC 1870 §6.1: a message larger than the advertised fixed limit is not sent.
    return queue::DeliveryResult{
        Status::Permanent, 552, "5.3.4",
        "message size " + std::to_string(size) + " exceeds the fixed limit of " + peer};
  }
  return std::nullopt;
}

enum class Kind { Mail, Rcpt, Data };

struct Command {
  Kind kind;
  size_t rcpt = 0;  // index into the recipients, for Kind::Rcpt
  std::string line;
};

const char* command_what(Kind k) {
  return k == Kind::Mail ? "MAIL command" : k == Kind::Rcpt ? "RCPT command" : "DATA command";
}

const char* reply_what(Kind k) {
  return k == Kind::Mail ? "MAIL reply" : k == Kind::Rcpt ? "RCPT reply" : "DATA reply";
}

// The first part of the batch (RFC 2920 §3.1): MAIL with its parameters, then RCPT for every
// recipient not decided yet. send() adds DATA when there is at least one RCPT.
std::vector<Command> mail_and_rcpts(
    const smtp::EhloInfo& ehlo, const std::string& from, const std::vector<std::string>& rcpts,
    const std::vector<std::optional<queue::DeliveryResult>>& decided, size_t size, bool smtputf8,
    bool eightbit, bool requiretls) {
  std::vector<Command> cmds;
  std::string mail = "MAIL FROM:<" + from + ">";
  if (ehlo.size) {
    mail += " SIZE=" + std::to_string(size);  // RFC 1870 §3
  }
  if ((eightbit || smtputf8) && ehlo.eightbitmime) {
    mail += " BODY=8BITMIME";  // RFC 6152 §2; SMTPUTF8 content is 8-bit too (RFC 6531 §3.1)
  }
  if (smtputf8) {
    mail += " SMTPUTF8";  // RFC 6531 §3.4
  }
  if (requiretls) {
    mail += " REQUIRETLS";  // RFC 8689 §4.2.1 step 5; refuse_requiretls() checked the offer
  }
  cmds.push_back({Kind::Mail, 0, mail + "\r\n"});
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (!decided[i]) {
      cmds.push_back({Kind::Rcpt, i, "RCPT TO:<" + rcpts[i] + ">\r\n"});
    }
  }
  return cmds;
}

}  // namespace

// One send()'s progress: a result per recipient as soon as it is known, the commands and what
// the server has answered so far.
struct SmtpClient::Progress {
  explicit Progress(size_t n) : decided(n) {}
  std::vector<std::optional<queue::DeliveryResult>> decided;
  std::vector<Command> cmds;  // MAIL, RCPT per open recipient, DATA
  bool mail_ok = false;
  bool requiretls_refused = false;  // see TransactionResult
  size_t n_accepted = 0;
  bool lost = false;  // the connection failed midway
  std::optional<smtp::Reply> data_reply;
  std::optional<smtp::Reply> closing;  // a 421: the server is going away (RFC 5321 §3.8)
};

asio::awaitable<TransactionResult> SmtpClient::send(const std::string& from,
                                                    const std::vector<std::string>& rcpts,
                                                    const std::string& message, bool smtputf8,
                                                    bool eightbit, bool requiretls) {
  TransactionResult out;
  out.tls = tls_;
  out.tls_version = stream_.tls_version();
  out.peer = stream_.peer();
  Progress p(rcpts.size());
  const bool not_ready = !ready_ || !stream_.is_open();
  decide_before_sending(p, not_ready, from, rcpts, message.size(), smtputf8, eightbit, requiretls);
  p.cmds =
      mail_and_rcpts(ehlo_, from, rcpts, p.decided, message.size(), smtputf8, eightbit, requiretls);
  if (p.cmds.size() == 1) {
    out.failed_before_rcpt = not_ready;
    out.requiretls_refused = p.requiretls_refused;
    for (size_t i = 0; i < rcpts.size(); ++i) {
      out.rcpts.push_back(std::move(*p.decided[i]));
    }
    co_return out;
  }
  p.cmds.push_back({Kind::Data, 0, "DATA\r\n"});
  co_await reset_if_needed(p);
  if (!p.cmds.empty()) {
    need_rset_ = true;  // until the transaction completes
  }
  co_await exchange(p);
  if (p.data_reply && !p.closing && !p.lost) {
    co_await on_data_reply(p, message);
  }
  co_return finish(p, std::move(out));
}

// What is decided before a command is sent: a client that is not connected, a message the
// server cannot take (refuse_locally), and addresses that cannot be written into a command.
void SmtpClient::decide_before_sending(Progress& p, bool not_ready, const std::string& from,
                                       const std::vector<std::string>& rcpts, size_t size,
                                       bool smtputf8, bool eightbit, bool requiretls) const {
  if (not_ready) {
    queue::DeliveryResult why = failure_;
    why.status = Status::Transient;
    if (why.code == 0 && why.text.empty()) {
      why.text = "not connected to " + stream_.peer();
    }
    decide_open(p.decided, why);
  } else if (auto no_tls =
                 requiretls ? refuse_requiretls(ehlo_, tls_, stream_.peer()) : std::nullopt) {
    decide_open(p.decided, *no_tls);
    p.requiretls_refused = true;
  } else if (auto refused = refuse_locally(ehlo_, stream_.peer(), from, size, smtputf8, eightbit)) {
    decide_open(p.decided, *refused);
  }
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (!p.decided[i] && !safe_path(rcpts[i])) {
      p.decided[i] =
          queue::DeliveryResult{Status::Permanent, 501, "5.1.3", "invalid recipient address"};
    }
  }
}

// RFC 5321 §4.1.1.5: a transaction that stopped midway is reset before the next one; if the
// reset fails, the connection is given up and nothing is sent.
asio::awaitable<void> SmtpClient::reset_if_needed(Progress& p) {
  if (!need_rset_) {
    co_return;
  }
  std::optional<smtp::Reply> r = co_await command("RSET", "RSET reply");
  if (!r || r->code / 100 != 2) {
    queue::DeliveryResult rset =
        r ? reply_result(Status::Transient, *r)
          : queue::DeliveryResult{Status::Transient, 0, "", stream_.error()};
    stream_.close();
    ready_ = false;
    decide_open(p.decided, rset);
    p.cmds.clear();
  } else {
    need_rset_ = false;
  }
}

// Commands go out in batches (the whole transaction with PIPELINING, RFC 2920 §3.1; one at a
// time without), and the replies are read back in order (RFC 2920 §3.2), each handed to its
// handler; the reply to DATA ends the exchange.
asio::awaitable<void> SmtpClient::exchange(Progress& p) {
  const bool pipelining = ehlo_.pipelining;
  size_t sent = 0, answered = 0;
  while (answered < p.cmds.size()) {
    if (sent == answered) {
      const Command& next = p.cmds[sent];
      // Without pipelining, stop as soon as the transaction cannot succeed.
      if ((next.kind != Kind::Mail && !p.mail_ok) ||
          (next.kind == Kind::Data && p.n_accepted == 0)) {
        break;
      }
      size_t end = pipelining ? std::min(p.cmds.size(), sent + kPipelineBatch) : sent + 1;
      std::string batch;
      for (size_t k = sent; k < end; ++k) {
        batch += p.cmds[k].line;
      }
      base::log_debug() << "smtp-client peer=" << stream_.peer()
                        << " send=" << base::log_quote(batch);
      bool written = co_await stream_.write(batch, opts_.command_timeout, command_what(next.kind));
      if (!written) {
        p.lost = true;
        break;
      }
      sent = end;
    }
    const Command& c = p.cmds[answered];
    // RFC 5321 §4.5.3.2.2-4: 5 minutes for MAIL and RCPT, 2 for DATA; one setting covers them.
    std::optional<smtp::Reply> r =
        co_await stream_.read_reply(opts_.command_timeout, reply_what(c.kind));
    if (!r) {
      p.lost = true;
      break;
    }
    ++answered;
    base::log_debug() << "smtp-client peer=" << stream_.peer()
                      << " reply=" << base::log_quote(reply_text(*r));
    if (c.kind == Kind::Data) {
      p.data_reply = std::move(r);
      break;
    }
    if (c.kind == Kind::Mail) {
      on_mail_reply(p, *r);
    } else {
      on_rcpt_reply(p, c.rcpt, *r);
    }
    if (r->code == 421) {
      p.closing = std::move(r);
      break;
    }
  }
}

// A refused MAIL decides every open recipient.
void SmtpClient::on_mail_reply(Progress& p, const smtp::Reply& r) {
  p.mail_ok = r.code / 100 == 2;
  if (!p.mail_ok) {
    decide_open(p.decided, from_reply(r));
  }
}

// A refused RCPT decides its recipient; an accepted one waits for the end of the data.
void SmtpClient::on_rcpt_reply(Progress& p, size_t rcpt, const smtp::Reply& r) {
  if (p.mail_ok && r.code / 100 == 2) {
    ++p.n_accepted;
  } else if (p.mail_ok) {
    p.decided[rcpt] = from_reply(r);
  }
}

// 354: the message (or, when no recipient was accepted, nothing) and the final dot; anything
// else decides the recipients still open.
asio::awaitable<void> SmtpClient::on_data_reply(Progress& p, const std::string& message) {
  const smtp::Reply& data = *p.data_reply;
  if (data.code != 354) {
    if (data.code == 421) {
      p.closing = data;
    }
    decide_open(p.decided, from_reply(data));  // only accepted recipients are still open
    co_return;
  }
  bool deliver = p.mail_ok && p.n_accepted > 0;
  // RFC 2920 §3.1: a pipelined DATA accepted although no recipient was must still be ended,
  // with nothing in it.
  bool written = false;
  if (deliver) {
    written = co_await send_body(message);
  } else {
    written = co_await stream_.write(".\r\n", opts_.data_timeout, "end of data");
  }
  std::optional<smtp::Reply> final_reply;
  if (written) {
    // RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the final dot.
    final_reply = co_await stream_.read_reply(opts_.data_timeout, "final DATA reply");
  }
  if (!final_reply) {
    p.lost = true;
    co_return;
  }
  on_final_reply(p, *final_reply, deliver);
}

// The reply to the final dot decides every accepted recipient (RFC 5321 §4.1.1.4).
void SmtpClient::on_final_reply(Progress& p, const smtp::Reply& r, bool delivered) {
  base::log_debug() << "smtp-client peer=" << stream_.peer()
                    << " reply=" << base::log_quote(reply_text(r));
  need_rset_ = false;
  if (delivered) {
    decide_open(p.decided, from_reply(r));
  }
  if (r.code == 421) {
    p.closing = r;
  }
}

// A 421 or a lost connection ends the session; whatever is still open gets its result.
TransactionResult SmtpClient::finish(Progress& p, TransactionResult out) {
  if (p.closing) {
    decide_open(p.decided, from_reply(*p.closing));
    failure_ = from_reply(*p.closing);
    stream_.close();
    ready_ = false;
  } else if (p.lost || !stream_.is_open()) {
    failure_ = {
        Status::Transient, 0, "",
        stream_.error().empty() ? "connection to " + stream_.peer() + " lost" : stream_.error()};
    decide_open(p.decided, failure_);
    ready_ = false;
  }
  out.failed_before_rcpt = (p.closing || p.lost || !stream_.is_open()) && p.n_accepted == 0;
  // Recipients still open were accepted but the transaction never reached DATA.
  decide_open(p.decided,
              {Status::Transient, 0, "", "transaction with " + stream_.peer() + " ended early"});
  for (auto& d : p.decided) {
    out.rcpts.push_back(std::move(*d));
  }
  return out;
}

asio::awaitable<bool> SmtpClient::send_body(const std::string& message) {
  DataEncoder enc;
  std::string chunk;
  std::string_view rest(message);
  do {
    std::string_view piece = rest.substr(0, kBodyChunk);
    rest.remove_prefix(piece.size());
    chunk.clear();
    enc.encode(piece, chunk);
    if (rest.empty()) {
      enc.finish(chunk);
    }
    // RFC 5321 §4.5.3.2.5: 3 minutes per block; data_timeout bounds each 64 KiB write.
    if (!co_await stream_.write(chunk, opts_.data_timeout, "message data")) {
      co_return false;
    }
  } while (!rest.empty());
  co_return true;
}

}  // namespace hk::delivery
