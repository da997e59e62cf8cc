// SmtpChannel: a session's side of its Transport — command lines in (bounded by LineBuffer),
// replies out (held back while the client pipelines, RFC 2920 §3.1), the message after DATA, and
// the one-line answers to AUTH challenges.
// SECURITY: no read grows memory without bound: command lines are cut at the line limit, and the
// DATA body is bounded by the DataReader it is fed to and goes to the spool as it grows.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "daemon/queue/spool.hpp"
#include "daemon/server/transport.hpp"
#include "lib/smtp/data_reader.hpp"
#include "lib/smtp/line_buffer.hpp"
#include "lib/smtp/reply.hpp"

namespace hk::server {

class SmtpChannel {
 public:
  SmtpChannel(Transport& transport, size_t max_line) : transport_(transport), lines_(max_line) {}
  SmtpChannel(const SmtpChannel&) = delete;
  SmtpChannel& operator=(const SmtpChannel&) = delete;

  // The next command line; nothing once the connection is gone. Replies queued so far are
  // written first whenever the next line has to be waited for (RFC 2920 §3.1).
  asio::awaitable<std::optional<smtp::Line>> read_line();
  // Queues a reply behind the ones not yet written.
  void queue(const smtp::Reply& r) { out_ += r.wire(); }
  // Writes what is queued; false when the connection is gone.
  asio::awaitable<bool> flush();
  // Queues `r` and writes everything queued.
  asio::awaitable<bool> send(const smtp::Reply& r);
  // Feeds the message that follows a 354 to `reader` up to its final dot, and what it stores to
  // `spool` (finished at the dot); false when the connection dropped first. Commands pipelined
  // behind the dot stay buffered for read_line().
  asio::awaitable<bool> read_data(smtp::DataReader& reader, queue::Spool& spool);
  // Sends a 334 challenge and reads the client's one-line answer (RFC 4954 §4); nothing when the
  // connection is gone or the answer is longer than a command line.
  asio::awaitable<std::optional<std::string>> challenge(const smtp::Reply& r);
  // Replies queued and not yet written.
  bool replies_held() const { return !out_.empty(); }
  // Forgets input not yet read: after STARTTLS, whatever came in the clear (RFC 3207 §4.2).
  void discard_input() { lines_.take_rest(); }
  // Whether the client has sent more than the lines read so far: the next command pipelined
  // behind the current one, or part of a line still coming (RFC 2920 §3.1; session_timer.cpp).
  bool has_unread_input() const { return lines_.pending(); }

 private:
  Transport& transport_;
  smtp::LineBuffer lines_;
  std::string out_;  // replies not yet written
};

}  // namespace hk::server
