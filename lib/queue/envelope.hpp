// Envelope and Recipient: what the queue knows about one message besides its bytes — the SMTP
// envelope as accepted, and each recipient's delivery state.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hk::queue {

using TimePoint = std::chrono::system_clock::time_point;

enum class RcptState { Pending, Delivered, Failed };

struct Recipient {
  std::string address;   // final address after alias resolution, "local@domain"
  std::string original;  // as given in RCPT TO (for the DSN Original-Recipient, RFC 3461 §4.2)
  bool local = false;    // true: deliver to a local Maildir; false: remote (MX / relay)
  // The reverse-path for this recipient's transaction when it differs from Envelope::from: the
  // SRS address of a message forwarded to a remote address (docs/srs.md). "" = Envelope::from.
  // DSNs still go to Envelope::from.
  std::string sender;
  RcptState state = RcptState::Pending;
  int attempts = 0;
  TimePoint next_attempt{};  // the epoch means "now": never tried yet
  // The last attempt's reply in DeliveryResult's parts: code (0 when none), enhanced code and
  // text. reply_line() makes the one-line form; all empty before the first attempt.
  int last_code = 0;
  std::string last_enhanced;
  std::string last_text;
};

struct Envelope {
  std::string id;
  TimePoint created;
  std::string from;  // "" = null sender <> (RFC 5321 §4.5.5)
  std::vector<Recipient> rcpts;
  std::string client_ip, helo, auth_user;
  bool smtputf8 = false;  // RFC 6531 SMTPUTF8 was given on MAIL FROM
  bool eightbit = false;  // RFC 6152 BODY=8BITMIME was given on MAIL FROM
  // RFC 8689 REQUIRETLS was given on MAIL FROM: deliver only over verified TLS to a server that
  // offers REQUIRETLS, else bounce with 5.7.30.
  bool requiretls = false;
  // When the sender was told that the message is delayed (Queue::Options::delay_warning); the
  // epoch means not yet. Kept in the state sidecar so that a restart never warns twice.
  TimePoint delay_warned{};
};

}  // namespace hk::queue
