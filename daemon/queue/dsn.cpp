// make_dsn(): the DSN message, part by part (RFC 6522 multipart/report, RFC 3464 fields).
#include "daemon/queue/dsn.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <utility>

#include "lib/base/date.hpp"
#include "lib/queue/delivery_result.hpp"

namespace hk::queue {
namespace {

// RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF, and SHOULD be at most 78.
constexpr size_t kMaxLine = 998;
constexpr size_t kFoldAt = 78;
// A remote reply is cut to this many octets: "Diagnostic-Code: X-Hikyaku; " plus the text stays
// under kMaxLine even when the text has no space to fold at.
constexpr size_t kMaxReplyText = 900;
// An address longer than this cannot be a valid path (RFC 5321 §4.5.3.1.3 allows 256 octets);
// the cut only keeps a damaged queue file from producing lines over kMaxLine.
constexpr size_t kMaxAddress = 900;

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Untrusted text for a header field or a line of the explanation: controls (CR and LF
// included) become spaces, runs of spaces collapse, non-ASCII octets become '?' (reply texts
// are ASCII, RFC 5321 §4.2, and this keeps the delivery-status part ASCII), then the result is cut
// to `max` octets.
std::string clean_text(std::string_view s, size_t max) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_control(c) || c == ' ') {
      if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
    } else {
      out += c >= 0x80 ? '?' : ch;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  if (out.size() > max) {
    out.resize(max - 3);
    out += "...";
  }
  return out;
}

// An address for a header or a field: controls become '?'; UTF-8 is kept (RFC 6532).
std::string clean_address(std::string_view s) {
  std::string out(s.substr(0, kMaxAddress));
  for (char& ch : out) {
    if (is_control(static_cast<unsigned char>(ch))) {
      ch = '?';
    }
  }
  return out;
}

// A host name for Reporting-MTA and the Message-ID: only the characters of a domain name.
std::string clean_host(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-') {
      out += c;
    }
  }
  return out.empty() ? std::string("localhost") : out;
}

// RFC 5322 §3.3 date-time in UTC, the day without a leading zero: "Tue, 1 Jun 2024 06:13:20 +0000".
std::string rfc5322_date(std::time_t t) {
  return base::rfc5322_date(std::chrono::system_clock::from_time_t(t), base::DateZone::Utc,
                            base::DateDay::Minimal);
}

std::string random_hex(size_t n) {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && out.size() < n; ++i, v >>= 4) {
      out += kHex[v & 15];
    }
  }
  return out;
}

// An address field of the delivery-status part (RFC 3464 §2.3.1/2.3.2). A non-ASCII address
// takes the "utf-8" type of RFC 6533 §3 in its utf-8-addr-unitext form: UTF-8 as is, and every
// ASCII character outside QUCHAR ('+', '=', '\', space, controls) as "\x{HH}".
std::string address_field(std::string_view name, std::string_view address) {
  std::string out(name);
  if (is_ascii(address)) {
    out += ": rfc822;";
    out += address;
    return out;
  }
  out += ": utf-8;";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : address) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || (c > 0x20 && c < 0x7f && c != '+' && c != '=' && c != '\\')) {
      out += ch;
    } else {
      out += "\\x{";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      out += '}';
    }
  }
  return out;
}

// One header field (or delivery-status field) with its CRLF, folded at spaces so that lines stay
// within kFoldAt where the text allows it (RFC 5322 §2.2.3). The first line always keeps the
// field name and the first word of the value.
std::string field(std::string_view line) {
  std::string out;
  size_t col = 0;
  size_t words = 0;  // words on the current output line
  bool first_line = true;
  size_t start = 0;
  while (start < line.size()) {
    size_t next = line.find(' ', start + 1);
    if (next == std::string_view::npos) {
      next = line.size();
    }
    std::string_view word = line.substr(start, next - start);
    if (word.front() == ' ' && col + word.size() > kFoldAt && words >= (first_line ? 2u : 1u)) {
      out += "\r\n";
      col = 0;
      words = 0;
      first_line = false;
    }
    out += word;
    col += word.size();
    ++words;
    start = next;
  }
  out += "\r\n";
  return out;
}

// Plain text wrapped at spaces to kFoldAt columns for the human-readable part; continuation
// lines are indented by `indent` spaces.
std::string wrap(std::string_view text, size_t indent) {
  std::string out;
  size_t col = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t next = text.find(' ', start);
    if (next == std::string_view::npos) {
      next = text.size();
    }
    std::string_view word = text.substr(start, next - start);
    if (col > indent && col + 1 + word.size() > kFoldAt) {
      out += "\r\n";
      out.append(indent, ' ');
      col = indent;
    } else if (col > 0) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    start = next + 1;
  }
  out += "\r\n";
  return out;
}

// The header section of a message: up to and including the CRLF of its last header line
// (RFC 5322 §2.1: an empty line separates it from the body).
std::string_view header_section(std::string_view m) {
  if (m.substr(0, 2) == "\r\n") {
    return {};
  }
  size_t end = m.find("\r\n\r\n");
  return end == std::string_view::npos ? m : m.substr(0, end + 2);
}

bool has_long_line(std::string_view m) {
  size_t start = 0;
  while (start < m.size()) {
    size_t end = m.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = m.size();
    }
    if (end - start > kMaxLine) {
      return true;
    }
    start = end + 2;
  }
  return false;
}

// `m` with every line cut to kMaxLine octets and a final CRLF, for the headers-only part.
std::string cap_lines(std::string_view m) {
  std::string out;
  size_t start = 0;
  while (start < m.size()) {
    size_t end = m.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = m.size();
    }
    out.append(m.substr(start, std::min(end - start, kMaxLine)));
    out += "\r\n";
    start = end + 2;
  }
  return out;
}

struct Part {
  std::string headers;  // header fields, each ending CRLF
  std::string body;     // ends with CRLF (or is empty)
};

std::string transfer_encoding(std::string_view body) {
  // RFC 2045 §6.2 / RFC 2046 §5.2.1: message/* parts allow only 7bit, 8bit or binary; 8-bit
  // octets go as they are (the DSN is then sent with BODY=8BITMIME, RFC 6152).
  return is_ascii(body) ? "Content-Transfer-Encoding: 7bit\r\n"
                        : "Content-Transfer-Encoding: 8bit\r\n";
}

// One reported recipient, cleaned once for both the explanation and the delivery-status part.
struct RcptReport {
  const Recipient* r;
  std::string address;   // final
  std::string original;  // as given in RCPT TO; empty when the same as `address`
  bool expired;          // failed because its queue lifetime ran out
  std::string reply;     // cleaned last reply, in its one-line form
};

// What every part of one DSN depends on.
struct Report {
  const DsnInput& in;
  bool failed;
  bool global;  // RFC 6533 types
  bool whole;   // the original is returned whole, not only its header section
  std::string host;
  std::string now;
  std::vector<RcptReport> rcpts;
};

Report make_report(const DsnInput& in) {
  Report rep{in,    in.kind == DsnKind::Failed,   in.env.smtputf8,
             false, clean_host(in.reporting_mta), rfc5322_date(in.now),
             {}};
  // RFC 8689 §5: the report of a REQUIRETLS message returns only its header section (the body
  // is what the sender wanted protected), and travels with REQUIRETLS itself (make_dsn()).
  rep.whole = !in.env.requiretls && in.original_message.size() <= in.max_original_bytes &&
              !has_long_line(in.original_message);
  // RFC 6533 §6: an internationalized address anywhere, or an SMTPUTF8 original, makes this a
  // global report.
  rep.global = rep.global || !is_ascii(in.env.from);
  for (const Recipient* r : in.rcpts) {
    RcptReport rr{
        r, clean_address(r->address), clean_address(r->original), false,
        clean_text(reply_line(r->last_code, r->last_enhanced, r->last_text), kMaxReplyText)};
    // Permanent failures carry a 5xx (DeliveryResult's convention); any other failed recipient
    // was given up at the end of its queue lifetime.
    rr.expired = rep.failed && r->last_code / 100 != 5;
    if (rr.original == rr.address) {
      rr.original.clear();
    }
    rep.global = rep.global || !is_ascii(rr.address) || !is_ascii(rr.original);
    rep.rcpts.push_back(std::move(rr));
  }
  return rep;
}

// Part 1: the explanation for a person.
Part explanation(const Report& rep) {
  Part p;
  p.body = "This is the mail delivery system at " + rep.host + ".\r\n\r\n";
  if (rep.failed) {
    p.body += wrap(
        std::string("Your message could not be delivered to the recipients below, and the mail "
                    "system has given up trying. ") +
            (rep.whole ? "The message is attached."
             : rep.in.env.requiretls
                 ? "Its header is attached: it was sent with REQUIRETLS, so its body is not "
                   "returned."
                 : "Its header is attached: the message was too large to return whole."),
        0);
  } else {
    const std::time_t until = rep.in.retry_until;
    p.body += wrap(
        "This is only a warning: you do not need to do anything. Your message has not been "
        "delivered yet to the recipients below, and the mail system goes on trying" +
            (until != 0 ? " until " + rfc5322_date(until) : std::string()) +
            ". If it gives up, you will get another message; if it gets through, you will hear "
            "nothing more. You do not need to send it again.",
        0);
  }
  for (const RcptReport& rr : rep.rcpts) {
    std::string line = "<" + rr.address + ">";
    if (!rr.original.empty()) {
      line += " (expanded from <" + rr.original + ">)";
    }
    line += ": ";
    if (rr.expired || !rep.failed) {
      line += rr.expired ? "delivery time expired after " : "not delivered yet after ";
      line += std::to_string(rr.r->attempts) + " attempts";
      line += rr.reply.empty() ? "" : "; the last one said: " + rr.reply;
    } else {
      line += rr.reply.empty() ? "delivery failed" : rr.reply;
    }
    p.body += "\r\n";
    p.body += wrap(line, 4);
  }
  p.headers = "Content-Type: text/plain; charset=utf-8\r\n";
  p.headers += "Content-Description: Notification\r\n";
  p.headers += transfer_encoding(p.body);
  return p;
}

// Part 2: the machine-readable report, per-message fields (RFC 3464 §2.2) then one group of
// per-recipient fields each (§2.3), separated by empty lines (§2.1).
Part delivery_status(const Report& rep) {
  const Envelope& env = rep.in.env;
  Part p;
  p.body = field("Reporting-MTA: dns; " + rep.host);
  p.body +=
      field("Arrival-Date: " + rfc5322_date(std::chrono::system_clock::to_time_t(env.created)));
  if (!env.id.empty()) {
    p.body += field("X-Hikyaku-Queue-ID: " + clean_text(env.id, 100));
  }
  for (const RcptReport& rr : rep.rcpts) {
    p.body += "\r\n";
    if (!rr.original.empty()) {
      p.body += field(address_field("Original-Recipient", rr.original));
    }
    p.body += field(address_field("Final-Recipient", rr.address));
    p.body += field(std::string("Action: ") + (rep.failed ? "failed" : "delayed"));
    p.body += field("Status: " + dsn_status(*rr.r, rr.expired));
    // Remote-MTA (RFC 3464 §2.3.5) is left out: Recipient does not record which host answered.
    if (!rr.reply.empty()) {
      // RFC 3464 §2.3.6: "smtp" for a reply from an SMTP server; our own error texts have no
      // code and take an extension type.
      p.body += field(std::string("Diagnostic-Code: ") +
                      (rr.r->last_code != 0 ? "smtp; " : "X-Hikyaku; ") + rr.reply);
    }
    if (rr.r->attempts > 0) {
      // The report is made right after the attempt that decided it.
      p.body += field("Last-Attempt-Date: " + rep.now);
    }
    if (!rep.failed && rep.in.retry_until != 0) {
      // RFC 3464 §2.3.9: for a "delayed" DSN, when the MTA stops trying this recipient.
      p.body += field("Will-Retry-Until: " + rfc5322_date(rep.in.retry_until));
    }
  }
  p.headers = rep.global ? "Content-Type: message/global-delivery-status\r\n"
                         : "Content-Type: message/delivery-status\r\n";
  p.headers += "Content-Description: Delivery report\r\n";
  p.headers += transfer_encoding(p.body);
  return p;
}

// Part 3: the original, whole or its header section only (RFC 6522 §4; RFC 6532 §3.7
// message/global and RFC 6533 §6.3 message/global-headers for the global form).
Part returned_original(const Report& rep) {
  Part p;
  const char* what = rep.failed ? "Undelivered message" : "Delayed message";
  if (rep.whole) {
    p.body = std::string(rep.in.original_message);
    if (!p.body.empty() && !p.body.ends_with("\r\n")) {
      p.body += "\r\n";
    }
    p.headers =
        rep.global ? "Content-Type: message/global\r\n" : "Content-Type: message/rfc822\r\n";
    p.headers += std::string("Content-Description: ") + what + "\r\n";
  } else {
    p.body = cap_lines(header_section(rep.in.original_message));
    p.headers = rep.global ? "Content-Type: message/global-headers\r\n"
                           : "Content-Type: text/rfc822-headers\r\n";
    p.headers += std::string("Content-Description: ") + what + " headers\r\n";
  }
  p.headers += transfer_encoding(p.body);
  return p;
}

// A MIME boundary that occurs in none of the parts (RFC 2046 §5.1.1). "=_" cannot start a line
// of quoted-printable text; the check covers everything else.
std::string make_boundary(const std::vector<Part>& parts) {
  for (;;) {
    std::string boundary = "=_hikyaku-dsn-" + random_hex(24);
    bool clash = false;
    for (const Part& p : parts) {
      clash = clash || p.body.find(boundary) != std::string::npos;
    }
    if (!clash) {
      return boundary;
    }
  }
}

// The Message-ID's left-hand side, dot-atom-text (RFC 5322 §3.6.4): "dsn.", the queue ID's
// letters and digits, then random bits.
std::string make_token(std::string_view queue_id) {
  std::string token = "dsn.";
  for (char c : queue_id) {
    if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      token += c;
    }
  }
  if (token.size() > 4) {
    token += '.';
  }
  return token + random_hex(16);
}

}  // namespace

std::string dsn_status(const Recipient& r, bool expired) {
  int cls = r.last_code / 100;
  if (expired && cls != 5) {
    return "4.4.7";  // RFC 3463 §3.5: delivery time expired
  }
  // RFC 3463 §2: the enhanced code's class repeats the reply code's first digit. The SMTP client
  // keeps only such codes; the check guards against a courier that does not.
  if (!r.last_enhanced.empty() && (cls == 0 || r.last_enhanced[0] - '0' == cls)) {
    return r.last_enhanced;
  }
  if (cls == 5) {
    return "5.0.0";  // RFC 3463 §3.1: other or undefined status, permanent
  }
  if (cls == 4) {
    return "4.0.0";
  }
  return r.state == RcptState::Failed ? "5.0.0" : "4.0.0";
}

std::optional<Dsn> make_dsn(const DsnInput& in) {
  if (in.env.from.empty() || in.rcpts.empty()) {
    return std::nullopt;
  }
  const Report rep = make_report(in);
  const std::vector<Part> parts = {explanation(rep), delivery_status(rep), returned_original(rep)};
  const std::string boundary = make_boundary(parts);
  const std::string sender = clean_address(in.env.from);
  const std::string postmaster = clean_address(in.postmaster);
  bool eightbit = false;
  for (const Part& p : parts) {
    eightbit = eightbit || !is_ascii(p.body);
  }

  Dsn dsn;
  dsn.id_hint = make_token(in.env.id);
  std::string& m = dsn.message;
  m = field("From: Mail Delivery System <" + postmaster + ">");
  m += field("To: <" + sender + ">");
  m += field(rep.failed ? "Subject: Undelivered Mail Returned to Sender"
                        : "Subject: Delayed Mail (still being retried)");
  m += field("Date: " + rep.now);
  m += field("Message-ID: <" + dsn.id_hint + "@" + rep.host + ">");
  m += field("Auto-Submitted: auto-replied");  // RFC 3834 §5: no auto-reply to this one
  m += field("MIME-Version: 1.0");
  // RFC 6522 §3: report-type names the subtype of the second part.
  m += field(std::string("Content-Type: multipart/report; report-type=") +
             (rep.global ? "global-delivery-status;" : "delivery-status;") + " boundary=\"" +
             boundary + "\"");
  if (eightbit) {
    m += "Content-Transfer-Encoding: 8bit\r\n";
  }
  m += "\r\nThis is a MIME-encapsulated message.\r\n";
  for (const Part& p : parts) {
    // RFC 2046 §5.1.1: the CRLF before "--boundary" belongs to the delimiter.
    m += "\r\n--" + boundary + "\r\n";
    m += p.headers;
    m += "\r\n";
    m += p.body;
  }
  m += "\r\n--" + boundary + "--\r\n";

  dsn.envelope.created = std::chrono::system_clock::from_time_t(in.now);
  dsn.envelope.from.clear();  // RFC 5321 §4.5.5: the null reverse-path
  Recipient to;
  to.address = in.env.from;
  to.original = in.env.from;
  dsn.envelope.rcpts.push_back(std::move(to));
  // RFC 6531 §3.4: a non-ASCII address in the header needs SMTPUTF8; 8-bit parts need
  // BODY=8BITMIME (RFC 6152).
  dsn.envelope.smtputf8 = !is_ascii(sender) || !is_ascii(postmaster);
  dsn.envelope.eightbit = eightbit;
  // RFC 8689 §5: the report of a REQUIRETLS message is sent with REQUIRETLS too; if that cannot
  // be done it is dropped (a DSN is never bounced), rather than sent in the clear.
  dsn.envelope.requiretls = in.env.requiretls;
  return dsn;
}

}  // namespace hk::queue
