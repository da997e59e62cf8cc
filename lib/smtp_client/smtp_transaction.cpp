// SmtpClient::send(): one mail transaction — MAIL, RCPT per recipient, DATA (pipelined when
// the server offers PIPELINING), the message, and a result per recipient.
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

}  // namespace

asio::awaitable<TransactionResult> SmtpClient::send(const std::string& from,
                                                    const std::vector<std::string>& rcpts,
                                                    const std::string& message, bool smtputf8,
                                                    bool eightbit) {
  TransactionResult out;
  out.tls = tls_;
  out.tls_version = stream_.tls_version();
  out.peer = stream_.peer();
  std::vector<std::optional<queue::DeliveryResult>> decided(rcpts.size());
  const bool not_ready = !ready_ || !stream_.is_open();
  if (not_ready) {
    queue::DeliveryResult why = failure_;
    why.status = Status::Transient;
    if (why.code == 0 && why.text.empty()) {
      why.text = "not connected to " + stream_.peer();
    }
    decide_open(decided, why);
  } else if (auto refused =
                 refuse_locally(ehlo_, stream_.peer(), from, message.size(), smtputf8, eightbit)) {
    decide_open(decided, *refused);
  }
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (!decided[i] && !safe_path(rcpts[i])) {
      decided[i] =
          queue::DeliveryResult{Status::Permanent, 501, "5.1.3", "invalid recipient address"};
    }
  }
  std::vector<Command> cmds;
  std::string mail = "MAIL FROM:<" + from + ">";
  if (ehlo_.size) {
    mail += " SIZE=" + std::to_string(message.size());  // RFC 1870 §3
  }
  if ((eightbit || smtputf8) && ehlo_.eightbitmime) {
    mail += " BODY=8BITMIME";  // RFC 6152 §2; SMTPUTF8 content is 8-bit too (RFC 6531 §3.1)
  }
  if (smtputf8) {
    mail += " SMTPUTF8";  // RFC 6531 §3.4
  }
  cmds.push_back({Kind::Mail, 0, mail + "\r\n"});
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (!decided[i]) {
      cmds.push_back({Kind::Rcpt, i, "RCPT TO:<" + rcpts[i] + ">\r\n"});
    }
  }
  if (cmds.size() == 1) {
    out.failed_before_rcpt = not_ready;
    for (size_t i = 0; i < rcpts.size(); ++i) {
      out.rcpts.push_back(std::move(*decided[i]));
    }
    co_return out;
  }
  cmds.push_back({Kind::Data, 0, "DATA\r\n"});

  if (need_rset_) {
    std::optional<smtp::Reply> r = co_await command("RSET", "RSET reply");
    if (!r || r->code / 100 != 2) {
      queue::DeliveryResult rset =
          r ? reply_result(Status::Transient, *r)
            : queue::DeliveryResult{Status::Transient, 0, "", stream_.error()};
      stream_.close();
      ready_ = false;
      decide_open(decided, rset);
      cmds.clear();
    } else {
      need_rset_ = false;
    }
  }

  // Commands go out in batches (the whole transaction with PIPELINING, RFC 2920 §3.1; one at a
  // time without), and the replies are read back in order (RFC 2920 §3.2).
  const bool pipelining = ehlo_.pipelining;
  bool mail_ok = false;
  size_t n_accepted = 0;
  size_t sent = 0, answered = 0;
  bool lost = false;
  std::optional<smtp::Reply> data_reply;
  std::optional<smtp::Reply> closing;  // a 421: the server is going away (RFC 5321 §3.8)
  if (!cmds.empty()) {
    need_rset_ = true;  // until the transaction completes
  }
  while (answered < cmds.size()) {
    if (sent == answered) {
      const Command& next = cmds[sent];
      // Without pipelining, stop as soon as the transaction cannot succeed.
      if ((next.kind != Kind::Mail && !mail_ok) || (next.kind == Kind::Data && n_accepted == 0)) {
        break;
      }
      size_t end = pipelining ? std::min(cmds.size(), sent + kPipelineBatch) : sent + 1;
      std::string batch;
      for (size_t k = sent; k < end; ++k) {
        batch += cmds[k].line;
      }
      base::log_debug() << "smtp-client peer=" << stream_.peer()
                        << " send=" << base::log_quote(batch);
      if (!co_await stream_.write(batch, opts_.command_timeout, command_what(next.kind))) {
        lost = true;
        break;
      }
      sent = end;
    }
    const Command& c = cmds[answered];
    // RFC 5321 §4.5.3.2.2-4: 5 minutes for MAIL and RCPT, 2 for DATA; one setting covers them.
    std::optional<smtp::Reply> r =
        co_await stream_.read_reply(opts_.command_timeout, reply_what(c.kind));
    if (!r) {
      lost = true;
      break;
    }
    ++answered;
    base::log_debug() << "smtp-client peer=" << stream_.peer()
                      << " reply=" << base::log_quote(reply_text(*r));
    bool positive = r->code / 100 == 2;
    if (c.kind == Kind::Mail) {
      mail_ok = positive;
      if (!mail_ok) {
        decide_open(decided, from_reply(*r));
      }
    } else if (c.kind == Kind::Rcpt) {
      if (mail_ok && positive) {
        ++n_accepted;
      } else if (mail_ok) {
        decided[c.rcpt] = from_reply(*r);
      }
    } else {
      data_reply = std::move(r);
      break;
    }
    if (r->code == 421) {
      closing = std::move(r);
      break;
    }
  }

  if (data_reply && !closing && !lost) {
    if (data_reply->code == 354) {
      bool deliver = mail_ok && n_accepted > 0;
      // RFC 2920 §3.1: a pipelined DATA accepted although no recipient was must still be ended,
      // with nothing in it.
      bool written = deliver ? co_await send_body(message)
                             : co_await stream_.write(".\r\n", opts_.data_timeout, "end of data");
      std::optional<smtp::Reply> final_reply;
      if (written) {
        // RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the final dot.
        final_reply = co_await stream_.read_reply(opts_.data_timeout, "final DATA reply");
      }
      if (!final_reply) {
        lost = true;
      } else {
        base::log_debug() << "smtp-client peer=" << stream_.peer()
                          << " reply=" << base::log_quote(reply_text(*final_reply));
        need_rset_ = false;
        if (deliver) {
          decide_open(decided, from_reply(*final_reply));
        }
        if (final_reply->code == 421) {
          closing = std::move(final_reply);
        }
      }
    } else {
      if (data_reply->code == 421) {
        closing = data_reply;
      }
      decide_open(decided, from_reply(*data_reply));  // only accepted recipients are still open
    }
  }
  if (closing) {
    decide_open(decided, from_reply(*closing));
    failure_ = from_reply(*closing);
    stream_.close();
    ready_ = false;
  } else if (lost || !stream_.is_open()) {
    failure_ = {
        Status::Transient, 0, "",
        stream_.error().empty() ? "connection to " + stream_.peer() + " lost" : stream_.error()};
    decide_open(decided, failure_);
    ready_ = false;
  }
  out.failed_before_rcpt = (closing || lost || !stream_.is_open()) && n_accepted == 0;
  // Recipients still open were accepted but the transaction never reached DATA.
  decide_open(decided,
              {Status::Transient, 0, "", "transaction with " + stream_.peer() + " ended early"});
  for (auto& d : decided) {
    out.rcpts.push_back(std::move(*d));
  }
  co_return out;
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
