// Delivery status notifications: builds the bounce (or delay notice) that tells a sender which of
// their recipients failed and why (RFC 3464 inside an RFC 6522 multipart/report; RFC 6533 for
// internationalized addresses). Pure: no I/O, time passed in; only the Message-ID and the MIME
// boundary take random bits.
//
// SECURITY: remote replies and queued addresses are untrusted text. Every byte of them that goes
// into a header line or a delivery-status field is stripped of CR, LF and other control
// characters, so a hostile server cannot inject header fields or MIME parts into the DSN.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/queue/envelope.hpp"

namespace hk::queue {

enum class DsnKind {
  Failed,   // Action: failed — the recipients will never get the message
  Delayed,  // Action: delayed — still being retried (RFC 3464 §2.3.3)
};

struct DsnInput {
  const Envelope& env;                  // the original envelope
  std::vector<const Recipient*> rcpts;  // the recipients this DSN reports, in env.rcpts
  std::string_view original_message;    // the bytes as queued (headers + body, CRLF lines)
  std::string reporting_mta;            // our hostname
  std::string postmaster;               // the DSN's From: address, e.g. "postmaster@<hostname>"
  std::time_t now;
  DsnKind kind = DsnKind::Failed;
  // Originals larger than this are returned as their header section only (text/rfc822-headers,
  // RFC 6522 §4 / the RET=HDRS behaviour of RFC 3461 §4.3).
  size_t max_original_bytes = 64 * 1024;
  // Delayed only: when the queue gives up on the recipients (created + lifetime), reported as
  // Will-Retry-Until (RFC 3464 §2.3.9) and in the explanation; 0 = not reported.
  std::time_t retry_until = 0;
};

struct Dsn {
  // The DSN's own token, the left-hand side of its Message-ID ("dsn.<original id>.<random>"),
  // for the log line that records the bounce.
  std::string id_hint;
  // MAIL FROM:<> and one recipient, the original sender. id is empty: the caller takes one from
  // QueueStore::new_id(). rcpts[0].local is false: the caller routes it like any RCPT (local
  // domain or not). smtputf8 is set when the DSN's header carries a non-ASCII address (RFC 6531),
  // eightbit when the message has 8-bit octets (RFC 6152).
  Envelope envelope;
  std::string message;  // the complete RFC 5322 message, CRLF line endings
};

// Builds the DSN for `in.rcpts`. Returns std::nullopt when the original sender is null <>: a
// bounce is never bounced (RFC 5321 §4.5.5, RFC 3464 §2 — mail loops), and when `in.rcpts` is
// empty (nothing to report).
//
// With kind Failed, a recipient whose last reply is not a 5xx failed because its queue lifetime
// ran out, and is reported as such (Status 4.4.7). With kind Delayed the report is the delay
// warning: the explanation says that no action is needed and until when delivery is retried.
//
// When any address involved is non-ASCII or the original was sent with SMTPUTF8, the report is
// the internationalized one of RFC 6533 §6: message/global-delivery-status with "utf-8;"
// addresses, and the original as message/global or message/global-headers.
std::optional<Dsn> make_dsn(const DsnInput& in);

// The recipient's status code for the DSN (RFC 3464 §2.3.4, codes from RFC 3463): the enhanced
// code of its last reply when there is one of the reply's class ("550 5.1.1 …" → "5.1.1"), else
// the class of the basic code (5xx → "5.0.0", 4xx → "4.0.0"). `expired` with a transient or
// missing reply code gives "4.4.7" (RFC 3463 §3.5, delivery time expired). A reply without any
// code gives "5.0.0" for a failed recipient and "4.0.0" otherwise.
std::string dsn_status(const Recipient& r, bool expired);

}  // namespace hk::queue
