// The message pipeline: what happens to a message between the client's final dot and the reply
// to it — loop detection, From: authorization, the headers we add (Authentication-Results,
// Received-SPF, Received, the submission fix-ups, DKIM-Signature) and the durable commit, into
// the Maildirs or the queue — as named steps run in order. The message is never whole in memory
// once it is large: it stays in its spool, and our headers are written in front of it.
// SECURITY: an authenticated user may only write their own addresses in From:; nothing is
// acknowledged before it is on disk and fsynced.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "daemon/queue/spool.hpp"
#include "daemon/server/session.hpp"
#include "lib/queue/envelope.hpp"
#include "lib/smtp/reply.hpp"

namespace hk::server {

// What the session learned about the client and the transaction by the end of DATA.
struct Transaction {
  Port port = Port::Smtp;
  std::string client_ip;
  std::string helo;
  bool esmtp = false;
  std::string auth_user;     // empty unless AUTH succeeded
  bool submission = false;   // authenticated or trusted: mail of our own users (RFC 6409)
  bool verify_dkim = false;  // should_verify_dkim()
  bool tls = false;
  std::string tls_version;  // "TLSv1.3"; empty when plain
  std::string tls_cipher;
  std::string from;  // the reverse-path; empty for the null sender
  bool smtputf8 = false;
  bool eightbit = false;    // BODY=8BITMIME
  bool requiretls = false;  // REQUIRETLS (RFC 8689)
  std::vector<queue::Recipient> rcpts;
  std::string spf_header;  // "Received-SPF: ...\r\n" when SPF was checked at MAIL FROM
  std::string spf_result;  // "pass", "fail", ... for Authentication-Results
  int hops = 0;            // Received headers already in the message
  // Capture mode applies (a trusted client without AUTH, [capture] enabled): recipients that
  // [capture] deliver does not name are captured instead of delivered (docs/capture.md).
  bool capture = false;
};

// Runs every step on the message in `spool` (as the client sent it, dot-unstuffed; finished) and
// returns the reply to the final dot: 250 once the message is stored, or why it was not. Only the
// header section is read into memory; the body is hashed and copied from the spool.
asio::awaitable<smtp::Reply> accept_message(Deps deps, Transaction tx, queue::Spool& spool);
// The same for a message in memory, spooled in pieces as a session would (tests).
asio::awaitable<smtp::Reply> accept_message(Deps deps, Transaction tx, std::string body);

}  // namespace hk::server
