// DeliveryResult: what one delivery attempt to one recipient came to, as the SMTP client, the
// couriers and the queue runner pass it along; and the one-line form of a reply
// ("451 4.7.1 greylisted") that logs, DSNs and the state sidecar show.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace hk::queue {

struct DeliveryResult {
  enum class Status { Delivered, Transient, Permanent };
  Status status = Status::Transient;
  // The reply code (RFC 5321 §4.2.3), or 0 for our own error texts, which have none
  // ("connection refused by 192.0.2.1:25").
  int code = 0;
  // The enhanced status code (RFC 3463 §2), "4.7.1", when the reply carried one of the reply
  // code's class (RFC 2034 §4); empty otherwise.
  std::string enhanced;
  // The reply's text lines joined by single spaces, without the codes; or our error text.
  std::string text;

  // Set by a courier that did not try at all (its destination backs off, or is at its connection
  // or rate limit): a Transient result that the queue retries at this time without counting an
  // attempt. The epoch (the default) means the result is of a real attempt.
  std::chrono::system_clock::time_point postponed_until{};
  // With postponed_until: the destination whose connection limit was reached. The queue retries
  // the message as soon as that destination frees a connection (Queue::destination_free), and at
  // postponed_until at the latest.
  std::string postponed_for{};

  // The one-line form, for log lines: "451 4.7.1 greylisted".
  std::string line() const;
  bool postponed() const { return postponed_until != std::chrono::system_clock::time_point{}; }
};

// "code enhanced text", leaving out a code of 0 and empty parts: "451 4.7.1 greylisted",
// "550 no such user", "connection refused by 192.0.2.1:25".
std::string reply_line(int code, std::string_view enhanced, std::string_view text);

// A reply's parts as split_reply_line() reads them back.
struct ReplyParts {
  int code = 0;
  std::string enhanced;
  std::string text;
};

// Splits a one-line reply back into its parts, so that the state sidecar can keep the one-line
// form older versions read (see docs/queue-format.md). The code is three digits "2xx" to "5xx" at
// the start; the enhanced code is "class.subject.detail" with 1-3 digit parts (RFC 3463 §2) next,
// only when its class repeats the code's first digit; each ends at the end of the line or at a
// space with more after it. The rest is the text. reply_line() of the parts gives back `line`
// exactly, whatever it holds, and the parts of every result the producers make survive the trip.
ReplyParts split_reply_line(std::string_view line);

}  // namespace hk::queue
