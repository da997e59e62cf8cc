// Tests for the DSN builder: status codes, the multipart/report structure, the delivery-status
// fields per recipient, sanitizing of remote text, and an independent parse by Python's email.
#include "daemon/queue/dsn.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lib/queue/delivery_result.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

using std::chrono::seconds;

constexpr std::time_t kNow = 1718000000;  // Mon, 10 Jun 2024 06:13:20 +0000
const TimePoint kCreated = TimePoint(seconds(1717990000));
const std::string kOriginal =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "The body line.\r\n";

// A recipient whose last reply is `reply` in its one-line form, split into its parts as the state
// sidecar's reader does ("550 5.1.1 no" → 550, "5.1.1", "no").
Recipient rcpt(std::string address, std::string reply, RcptState state = RcptState::Failed,
               std::string original = "", int attempts = 1) {
  Recipient r;
  r.address = std::move(address);
  r.original = original.empty() ? r.address : std::move(original);
  r.state = state;
  r.attempts = attempts;
  ReplyParts parts = split_reply_line(reply);
  r.last_code = parts.code;
  r.last_enhanced = std::move(parts.enhanced);
  r.last_text = std::move(parts.text);
  return r;
}

Envelope envelope(std::vector<Recipient> rcpts, std::string from = "alice@example.org") {
  Envelope env;
  env.id = "1K0YGE493PY941M693M";
  env.created = kCreated;
  env.from = std::move(from);
  env.rcpts = std::move(rcpts);
  return env;
}

std::vector<const Recipient*> all(const Envelope& env) {
  std::vector<const Recipient*> out;
  for (const Recipient& r : env.rcpts) {
    out.push_back(&r);
  }
  return out;
}

Dsn build(const Envelope& env, DsnKind kind = DsnKind::Failed,
          std::string_view original = kOriginal, size_t max_original = 64 * 1024) {
  DsnInput in{env,  all(env), original,    "mx.example.org", "postmaster@mx.example.org",
              kNow, kind,     max_original};
  std::optional<Dsn> dsn = make_dsn(in);
  if (!dsn) {
    ADD_FAILURE() << "no DSN";
    return {};
  }
  return *dsn;
}

// A minimal MIME reader for the checks below: enough for what make_dsn writes.
struct MimePart {
  std::string headers;  // unfolded, each field ending CRLF
  std::string body;
};

std::string unfold(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "\r\n " || s.substr(i, 3) == "\r\n\t") {
      i += 1;  // drop CRLF, keep the white space
      continue;
    }
    out += s[i];
  }
  return out;
}

MimePart split_part(std::string_view s) {
  size_t end = s.find("\r\n\r\n");
  if (s.substr(0, 2) == "\r\n") {
    return {"", std::string(s.substr(2))};
  }
  if (end == std::string_view::npos) {
    return {unfold(s), ""};
  }
  return {unfold(s.substr(0, end + 2)), std::string(s.substr(end + 4))};
}

// The value of the first field `name` in unfolded `headers`, "" when absent.
std::string field(std::string_view headers, std::string_view name) {
  std::string key = "\r\n" + std::string(name) + ": ";
  std::string h = "\r\n" + std::string(headers);
  size_t at = h.find(key);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + key.size();
  return h.substr(start, h.find("\r\n", start) - start);
}

struct Parsed {
  MimePart top;
  std::string boundary;
  std::vector<MimePart> parts;
};

Parsed parse(const std::string& message) {
  Parsed p;
  p.top = split_part(message);
  std::string ct = field(p.top.headers, "Content-Type");
  size_t b = ct.find("boundary=\"");
  if (b == std::string::npos) {
    ADD_FAILURE() << "no boundary in " << ct;
    return p;
  }
  p.boundary = ct.substr(b + 10, ct.find('"', b + 10) - b - 10);
  const std::string delim = "\r\n--" + p.boundary;
  std::string body = "\r\n" + p.top.body;
  size_t at = body.find(delim);
  while (at != std::string::npos) {
    size_t start = body.find("\r\n", at + delim.size());
    if (body.compare(at + delim.size(), 2, "--") == 0 || start == std::string::npos) {
      break;
    }
    start += 2;
    size_t next = body.find(delim, start);
    if (next == std::string::npos) {
      ADD_FAILURE() << "no closing delimiter";
      break;
    }
    p.parts.push_back(split_part(std::string_view(body).substr(start, next - start)));
    at = next;
  }
  return p;
}

// The field groups of a delivery-status body (RFC 3464 §2.1), unfolded.
std::vector<std::string> groups(const std::string& body) {
  std::vector<std::string> out;
  std::string text = unfold(body);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\r\n\r\n", start);
    if (end == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, end + 2 - start));
    start = end + 4;
  }
  return out;
}

// Line rules every DSN obeys: CRLF only, no line over 998 octets (RFC 5322 §2.1.1), and header
// lines within 78 where they have a space to fold at.
void expect_lines_ok(const std::string& m) {
  size_t start = 0;
  bool in_header = true;
  while (start < m.size()) {
    size_t end = m.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "no final CRLF";
    std::string_view line = std::string_view(m).substr(start, end - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos) << "bare CR/LF: " << line;
    EXPECT_LE(line.size(), 998u);
    if (line.empty()) {
      in_header = false;
    }
    if (in_header && line.find(' ', 40) != std::string_view::npos) {
      EXPECT_LE(line.size(), 78u) << line;
    }
    start = end + 2;
  }
}

// Wrapped text with its line breaks and continuation indents turned into single spaces.
std::string squash(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 2) == "\r\n" && i + 2 < s.size() && s[i + 2] == ' ') {
      i += 2;
      while (i + 1 < s.size() && s[i + 1] == ' ') {
        ++i;
      }
      out += ' ';
      continue;
    }
    out += s[i];
  }
  return out;
}

// The explanation as one line: wrapped paragraphs (whose lines are not indented) joined too.
std::string flat(std::string_view s) {
  std::string out = squash(s);
  for (size_t at = out.find("\r\n"); at != std::string::npos; at = out.find("\r\n", at)) {
    out.replace(at, 2, " ");
  }
  return out;
}

// Every line of `text` is at most 78 octets unless it is one word that cannot be folded.
void expect_folded(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (line.size() > 78) {
      size_t word = line.find_first_not_of(' ');
      EXPECT_EQ(line.find(' ', word), std::string_view::npos) << line;
    }
    start = end + 2;
  }
}

TEST(DsnStatus, Table) {
  struct Case {
    std::string reply;
    RcptState state;
    bool expired;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"550 5.1.1 no such user", RcptState::Failed, false, "5.1.1"},
      {"552 5.3.4 message too big", RcptState::Failed, false, "5.3.4"},
      {"554 5.7.123 policy", RcptState::Failed, false, "5.7.123"},
      {"550 no such user", RcptState::Failed, false, "5.0.0"},
      {"550", RcptState::Failed, false, "5.0.0"},
      {"550 4.1.1 class disagrees", RcptState::Failed, false, "5.0.0"},
      {"550 5.1.1234 too many digits", RcptState::Failed, false, "5.0.0"},
      {"550 5.1 too few parts", RcptState::Failed, false, "5.0.0"},
      {"550 5.1.1x glued", RcptState::Failed, false, "5.0.0"},
      {"5.2.2 mailbox full", RcptState::Failed, false, "5.2.2"},
      {"451 4.7.1 greylisted", RcptState::Pending, false, "4.7.1"},
      {"421 service not available", RcptState::Pending, false, "4.0.0"},
      {"451 4.7.1 greylisted", RcptState::Failed, true, "4.4.7"},
      {"connection refused", RcptState::Failed, true, "4.4.7"},
      {"", RcptState::Failed, true, "4.4.7"},
      {"550 5.1.1 no such user", RcptState::Failed, true, "5.1.1"},  // a 5xx is never "expired"
      {"connection refused", RcptState::Pending, false, "4.0.0"},
      {"mailbox name not usable", RcptState::Failed, false, "5.0.0"},
      {"5501 5.1.1 four digits", RcptState::Failed, false, "5.0.0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(dsn_status(rcpt("bob@example.net", c.reply, c.state), c.expired), c.want)
        << c.reply << " expired=" << c.expired;
  }
}

// The status straight from the parts, as a courier hands them over: an enhanced code is used only
// when its class agrees with the reply code (RFC 3463 §2).
TEST(DsnStatus, FromParts) {
  struct Case {
    int code;
    std::string enhanced;
    bool expired;
    std::string want;
  };
  const std::vector<Case> cases = {
      {550, "5.1.1", false, "5.1.1"}, {550, "4.1.1", false, "5.0.0"},
      {451, "5.1.1", false, "4.0.0"}, {451, "4.7.1", true, "4.4.7"},
      {0, "5.2.2", false, "5.2.2"},   {0, "", true, "4.4.7"},
      {554, "", true, "5.0.0"},
  };
  for (const Case& c : cases) {
    Recipient r;
    r.state = RcptState::Failed;
    r.last_code = c.code;
    r.last_enhanced = c.enhanced;
    r.last_text = "text";
    EXPECT_EQ(dsn_status(r, c.expired), c.want) << c.code << " " << c.enhanced;
  }
}

TEST(Dsn, NeverForNullSenderOrNoRecipients) {
  Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 no")}, "");
  EXPECT_FALSE(make_dsn({env, all(env), kOriginal, "mx.example.org", "postmaster@mx", kNow}));
  Envelope env2 = envelope({rcpt("bob@example.net", "550 5.1.1 no")});
  EXPECT_FALSE(make_dsn({env2, {}, kOriginal, "mx.example.org", "postmaster@mx", kNow}));
  EXPECT_TRUE(make_dsn({env2, all(env2), kOriginal, "mx.example.org", "postmaster@mx", kNow}));
}

TEST(Dsn, EnvelopeIsNullSenderToOriginalSender) {
  Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 no such user")});
  Dsn dsn = build(env);
  EXPECT_EQ(dsn.envelope.from, "");
  EXPECT_EQ(dsn.envelope.id, "");
  ASSERT_EQ(dsn.envelope.rcpts.size(), 1u);
  EXPECT_EQ(dsn.envelope.rcpts[0].address, "alice@example.org");
  EXPECT_EQ(dsn.envelope.rcpts[0].state, RcptState::Pending);
  EXPECT_EQ(dsn.envelope.rcpts[0].attempts, 0);
  EXPECT_FALSE(dsn.envelope.smtputf8);
  EXPECT_FALSE(dsn.envelope.eightbit);
  EXPECT_EQ(dsn.envelope.created, TimePoint(seconds(kNow)));
  EXPECT_EQ(dsn.id_hint.rfind("dsn.1K0YGE493PY941M693M.", 0), 0u) << dsn.id_hint;
  // Each DSN is its own message.
  EXPECT_NE(build(env).id_hint, dsn.id_hint);
}

TEST(Dsn, HeadersAndStructure) {
  Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 no such user")});
  Dsn dsn = build(env);
  expect_lines_ok(dsn.message);
  Parsed p = parse(dsn.message);
  const std::string& h = p.top.headers;
  EXPECT_EQ(field(h, "From"), "Mail Delivery System <postmaster@mx.example.org>");
  EXPECT_EQ(field(h, "To"), "<alice@example.org>");
  EXPECT_EQ(field(h, "Subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(field(h, "Date"), "Mon, 10 Jun 2024 06:13:20 +0000");
  EXPECT_EQ(field(h, "Message-ID"), "<" + dsn.id_hint + "@mx.example.org>");
  EXPECT_EQ(field(h, "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(field(h, "MIME-Version"), "1.0");
  EXPECT_EQ(field(h, "Content-Type"),
            "multipart/report; report-type=delivery-status; boundary=\"" + p.boundary + "\"");
  EXPECT_FALSE(p.boundary.empty());
  ASSERT_EQ(p.parts.size(), 3u);
  for (const MimePart& part : p.parts) {
    EXPECT_EQ(part.body.find(p.boundary), std::string::npos);
  }
  EXPECT_EQ(field(p.parts[0].headers, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(field(p.parts[1].headers, "Content-Type"), "message/delivery-status");
  EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/rfc822");
  EXPECT_EQ(field(p.parts[2].headers, "Content-Transfer-Encoding"), "7bit");
  EXPECT_EQ(p.parts[2].body, kOriginal);  // returned byte for byte

  EXPECT_NE(p.parts[0].body.find("<bob@example.net>: 550 5.1.1 no such user\r\n"),
            std::string::npos)
      << p.parts[0].body;
  std::vector<std::string> g = groups(p.parts[1].body);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(field(g[0], "Reporting-MTA"), "dns; mx.example.org");
  EXPECT_EQ(field(g[0], "Arrival-Date"), "Mon, 10 Jun 2024 03:26:40 +0000");
  EXPECT_EQ(field(g[0], "X-Hikyaku-Queue-ID"), "1K0YGE493PY941M693M");
  EXPECT_EQ(field(g[1], "Final-Recipient"), "rfc822;bob@example.net");
  EXPECT_EQ(field(g[1], "Original-Recipient"), "");
  EXPECT_EQ(field(g[1], "Remote-MTA"), "");
  EXPECT_EQ(field(g[1], "Last-Attempt-Date"), "Mon, 10 Jun 2024 06:13:20 +0000");
}

TEST(Dsn, RecipientBlocks) {
  struct Case {
    Recipient r;
    DsnKind kind;
    std::string original_field;  // "" = no Original-Recipient
    std::string action, status, diagnostic;
    std::string human;  // expected in the text part
  };
  const std::vector<Case> cases = {
      {rcpt("bob@example.net", "550 5.1.1 no such user"), DsnKind::Failed, "", "failed", "5.1.1",
       "smtp; 550 5.1.1 no such user", "<bob@example.net>: 550 5.1.1 no such user"},
      {rcpt("list@example.net", "552 mailbox full", RcptState::Failed, "List@example.net"),
       DsnKind::Failed, "rfc822;List@example.net", "failed", "5.0.0", "smtp; 552 mailbox full",
       "<list@example.net> (expanded from <List@example.net>): 552 mailbox full"},
      // Expired: a failed recipient whose last reply was transient (RFC 3463 §3.5).
      {rcpt("carol@example.com", "451 4.7.1 greylisted", RcptState::Failed, "", 12),
       DsnKind::Failed, "", "failed", "4.4.7", "smtp; 451 4.7.1 greylisted",
       "<carol@example.com>: delivery time expired after 12 attempts; the last one said: 451"},
      {rcpt("dave@example.com", "connection refused", RcptState::Failed, "", 7), DsnKind::Failed,
       "", "failed", "4.4.7", "X-Hikyaku; connection refused",
       "delivery time expired after 7 attempts; the last one said: connection refused"},
      {rcpt("erin@example.com", "451 4.3.0 try later", RcptState::Pending, "", 3), DsnKind::Delayed,
       "", "delayed", "4.3.0", "smtp; 451 4.3.0 try later",
       "<erin@example.com>: not delivered yet after 3 attempts; the last one said: 451 4.3.0"},
      {rcpt("frank@example.com", "", RcptState::Failed, "", 0), DsnKind::Failed, "", "failed",
       "4.4.7", "", "<frank@example.com>: delivery time expired after 0 attempts"},
  };
  for (const Case& c : cases) {
    Envelope env = envelope({c.r});
    Dsn dsn = build(env, c.kind);
    expect_lines_ok(dsn.message);
    Parsed p = parse(dsn.message);
    ASSERT_EQ(p.parts.size(), 3u) << c.r.address;
    std::vector<std::string> g = groups(p.parts[1].body);
    ASSERT_EQ(g.size(), 2u) << c.r.address;
    EXPECT_EQ(field(g[1], "Original-Recipient"), c.original_field) << c.r.address;
    EXPECT_EQ(field(g[1], "Final-Recipient"), "rfc822;" + c.r.address);
    EXPECT_EQ(field(g[1], "Action"), c.action) << c.r.address;
    EXPECT_EQ(field(g[1], "Status"), c.status) << c.r.address;
    EXPECT_EQ(field(g[1], "Diagnostic-Code"), c.diagnostic) << c.r.address;
    EXPECT_EQ(field(g[1], "Last-Attempt-Date").empty(), c.r.attempts == 0) << c.r.address;
    EXPECT_NE(squash(p.parts[0].body).find(c.human), std::string::npos) << c.r.address << "\n"
                                                                        << p.parts[0].body;
  }
}

TEST(Dsn, SeveralRecipientsInOrder) {
  Envelope env = envelope({rcpt("a@example.net", "550 5.1.1 unknown"),
                           rcpt("ok@example.net", "250 ok", RcptState::Delivered),
                           rcpt("b@example.com", "554 5.7.1 rejected"),
                           rcpt("c@example.com", "451 4.4.1 no answer", RcptState::Failed)});
  // Only the recipients handed in are reported, not the delivered one.
  DsnInput in{env,
              {&env.rcpts[0], &env.rcpts[2], &env.rcpts[3]},
              kOriginal,
              "mx.example.org",
              "postmaster@mx.example.org",
              kNow};
  std::optional<Dsn> dsn = make_dsn(in);
  ASSERT_TRUE(dsn);
  expect_lines_ok(dsn->message);
  Parsed p = parse(dsn->message);
  ASSERT_EQ(p.parts.size(), 3u);
  std::vector<std::string> g = groups(p.parts[1].body);
  ASSERT_EQ(g.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"rfc822;a@example.net", "5.1.1"},
      {"rfc822;b@example.com", "5.7.1"},
      {"rfc822;c@example.com", "4.4.7"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(field(g[i + 1], "Final-Recipient"), want[i].first);
    EXPECT_EQ(field(g[i + 1], "Status"), want[i].second);
    EXPECT_EQ(field(g[i + 1], "Action"), "failed");
  }
  EXPECT_EQ(p.parts[0].body.find("ok@example.net"), std::string::npos);
  EXPECT_EQ(p.parts[1].body.find("ok@example.net"), std::string::npos);
  EXPECT_LT(p.parts[0].body.find("<a@example.net>"), p.parts[0].body.find("<b@example.com>"));
}

TEST(Dsn, DelayedKind) {
  Envelope env =
      envelope({rcpt("bob@example.net", "421 4.4.2 timeout", RcptState::Pending, "", 2)});
  Dsn dsn = build(env, DsnKind::Delayed);
  Parsed p = parse(dsn.message);
  EXPECT_EQ(field(p.top.headers, "Subject"), "Delayed Mail (still being retried)");
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_NE(p.parts[0].body.find("send it again."), std::string::npos);
  std::vector<std::string> g = groups(p.parts[1].body);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(field(g[1], "Action"), "delayed");
  EXPECT_EQ(field(g[1], "Status"), "4.4.2");
}

// The delay warning as the queue asks for it: only the recipients still pending, with the date
// until which they are retried.
TEST(Dsn, DelayWarningContent) {
  Envelope env = envelope(
      {rcpt("ok@example.net", "250 2.0.0 ok", RcptState::Delivered),
       rcpt("a@example.net", "451 4.7.1 greylisted", RcptState::Pending, "A@example.net", 3),
       rcpt("gone@example.com", "550 5.1.1 unknown", RcptState::Failed),
       rcpt("b@example.com", "421 service busy", RcptState::Pending, "", 2)});
  const std::time_t until =
      std::chrono::system_clock::to_time_t(kCreated + std::chrono::hours(120));
  DsnInput in{env,
              {&env.rcpts[1], &env.rcpts[3]},
              kOriginal,
              "mx.example.org",
              "postmaster@mx.example.org",
              kNow,
              DsnKind::Delayed};
  in.retry_until = until;
  std::optional<Dsn> dsn = make_dsn(in);
  ASSERT_TRUE(dsn);
  expect_lines_ok(dsn->message);
  EXPECT_EQ(dsn->envelope.from, "");
  ASSERT_EQ(dsn->envelope.rcpts.size(), 1u);
  EXPECT_EQ(dsn->envelope.rcpts[0].address, "alice@example.org");
  Parsed p = parse(dsn->message);
  EXPECT_EQ(field(p.top.headers, "Subject"), "Delayed Mail (still being retried)");
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(field(p.parts[2].headers, "Content-Description"), "Delayed message");

  const std::string text = flat(p.parts[0].body);
  EXPECT_NE(text.find("This is only a warning: you do not need to do anything."), std::string::npos)
      << text;
  EXPECT_NE(text.find("goes on trying until Sat, 15 Jun 2024 03:26:40 +0000."), std::string::npos)
      << text;
  EXPECT_NE(text.find("You do not need to send it again."), std::string::npos) << text;
  EXPECT_NE(text.find("<a@example.net> (expanded from <A@example.net>): not delivered yet after 3 "
                      "attempts; the last one said: 451 4.7.1 greylisted"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<b@example.com>: not delivered yet after 2 attempts"), std::string::npos);

  std::vector<std::string> g = groups(p.parts[1].body);
  ASSERT_EQ(g.size(), 3u);  // per-message fields, then the two pending recipients only
  const std::vector<std::pair<std::string, std::string>> want = {
      {"rfc822;a@example.net", "4.7.1"},
      {"rfc822;b@example.com", "4.0.0"},  // 4xx without an enhanced code (RFC 3463 §3.1)
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(field(g[i + 1], "Final-Recipient"), want[i].first);
    EXPECT_EQ(field(g[i + 1], "Action"), "delayed");
    EXPECT_EQ(field(g[i + 1], "Status"), want[i].second);
    EXPECT_EQ(field(g[i + 1], "Will-Retry-Until"), "Sat, 15 Jun 2024 03:26:40 +0000");
    EXPECT_EQ(field(g[i + 1], "Last-Attempt-Date"), "Mon, 10 Jun 2024 06:13:20 +0000");
  }
  for (const char* absent : {"ok@example.net", "gone@example.com"}) {
    EXPECT_EQ(p.parts[0].body.find(absent), std::string::npos) << absent;
    EXPECT_EQ(p.parts[1].body.find(absent), std::string::npos) << absent;
  }

  // RFC 3464 §2.3.9: Will-Retry-Until MUST NOT appear in a DSN other than "delayed".
  in.kind = DsnKind::Failed;
  dsn = make_dsn(in);
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->message.find("Will-Retry-Until"), std::string::npos);
  // Without a date: no field, and the text does not name one.
  in.kind = DsnKind::Delayed;
  in.retry_until = 0;
  dsn = make_dsn(in);
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->message.find("Will-Retry-Until"), std::string::npos);
  EXPECT_NE(flat(parse(dsn->message).parts[0].body).find("goes on trying. If it gives up"),
            std::string::npos);
  // Never for a null sender.
  Envelope null_sender = env;
  null_sender.from.clear();
  DsnInput none{null_sender,      {&null_sender.rcpts[1]},     kOriginal,
                "mx.example.org", "postmaster@mx.example.org", kNow,
                DsnKind::Delayed};
  none.retry_until = until;
  EXPECT_FALSE(make_dsn(none));
}

TEST(Dsn, BigOriginalReturnsHeadersOnly) {
  const std::string headers =
      "From: Alice <alice@example.org>\r\nSubject: big\r\nX-Long: a\r\n b\r\n";
  struct Case {
    std::string name;
    std::string message;
    size_t max;
    bool whole;
    std::string returned;
  };
  const std::vector<Case> cases = {
      {"fits", headers + "\r\n" + std::string(100, 'x') + "\r\n", 1000, true, ""},
      {"exact limit", headers + "\r\n" + std::string(100, 'x') + "\r\n", headers.size() + 104, true,
       ""},
      {"one over", headers + "\r\n" + std::string(100, 'x') + "\r\n", headers.size() + 103, false,
       headers},
      {"200 KiB", headers + "\r\n" + std::string(200 * 1024, 'y') + "\r\n", 64 * 1024, false,
       headers},
      // A line over 998 octets cannot be returned as it is (RFC 5322 §2.1.1).
      {"long line", headers + "\r\n" + std::string(2000, 'z') + "\r\n", 64 * 1024, false, headers},
      {"no body", headers, 10, false, headers},
      {"empty header", "\r\nbody only\r\n", 5, false, ""},
  };
  for (const Case& c : cases) {
    Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 no")});
    Dsn dsn = build(env, DsnKind::Failed, c.message, c.max);
    expect_lines_ok(dsn.message);
    Parsed p = parse(dsn.message);
    ASSERT_EQ(p.parts.size(), 3u) << c.name;
    if (c.whole) {
      EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/rfc822") << c.name;
      EXPECT_EQ(p.parts[2].body, c.message) << c.name;
      EXPECT_NE(p.parts[0].body.find("The message is attached."), std::string::npos);
    } else {
      EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "text/rfc822-headers") << c.name;
      EXPECT_EQ(p.parts[2].body, c.returned) << c.name;
      EXPECT_NE(p.parts[0].body.find("Its header is attached"), std::string::npos);
    }
    EXPECT_EQ(dsn.message.find("yyyyyyyy"), std::string::npos) << c.name;
  }
}

// RFC 8689 §5: a REQUIRETLS message comes back as its header section only, however small, and
// its report is sent with REQUIRETLS too.
TEST(Dsn, RequireTlsReturnsHeadersOnlyAndKeepsTheFlag) {
  const std::string headers = "From: Alice <alice@example.org>\r\nSubject: secret\r\n";
  const std::string message = headers + "\r\nthe secret body\r\n";
  for (bool requiretls : {false, true}) {
    SCOPED_TRACE(requiretls);
    Envelope env = envelope({rcpt("bob@example.net", "550 5.7.30 REQUIRETLS support required")});
    env.requiretls = requiretls;
    Dsn dsn = build(env, DsnKind::Failed, message, 64 * 1024);
    EXPECT_EQ(dsn.envelope.requiretls, requiretls);
    Parsed p = parse(dsn.message);
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(dsn.message.find("the secret body") == std::string::npos, requiretls);
    if (requiretls) {
      EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "text/rfc822-headers");
      EXPECT_EQ(p.parts[2].body, headers);
      EXPECT_NE(flat(p.parts[0].body).find("sent with REQUIRETLS"), std::string::npos);
      EXPECT_NE(p.parts[1].body.find("Status: 5.7.30"), std::string::npos);
    }
  }
}

TEST(Dsn, RemoteTextIsSanitized) {
  const std::vector<std::string> replies = {
      "550 5.1.1 bad\r\nInjected: yes\r\n\r\n--boundary",
      [] {
        const char text[] = "550 5.1.1 nul\0byte\x1b[31mred\x7f";  // with the NUL inside
        return std::string(text, sizeof text - 1);
      }(),
      "550 5.1.1 tab\there \xc3\xa9t\xc3\xa9",
      "550 5.1.1 " + std::string(3000, 'A'),
      "550 5.1.1 " +
          [] {
            std::string s;
            for (int i = 0; i < 300; ++i) {
              s += "word" + std::to_string(i) + " ";
            }
            return s;
          }(),
  };
  for (const std::string& reply : replies) {
    Envelope env = envelope({rcpt("bob@example.net", reply)});
    Dsn dsn = build(env);
    expect_lines_ok(dsn.message);
    EXPECT_EQ(dsn.message.find("\r\nInjected:"), std::string::npos);
    EXPECT_EQ(dsn.message.find('\0'), std::string::npos);
    EXPECT_EQ(dsn.message.find('\x1b'), std::string::npos);
    EXPECT_EQ(dsn.message.find('\x7f'), std::string::npos);
    EXPECT_EQ(dsn.message.find('\t'), std::string::npos);
    EXPECT_FALSE(dsn.envelope.eightbit);  // non-ASCII octets of the reply become '?'
    Parsed p = parse(dsn.message);
    ASSERT_EQ(p.parts.size(), 3u);
    std::vector<std::string> g = groups(p.parts[1].body);
    ASSERT_EQ(g.size(), 2u);
    expect_folded(p.parts[0].body);
    expect_folded(p.parts[1].body);
    std::string diagnostic = field(g[1], "Diagnostic-Code");
    EXPECT_EQ(diagnostic.rfind("smtp; 550 5.1.1 ", 0), 0u) << diagnostic;
    EXPECT_LE(diagnostic.size(), 906u);
    EXPECT_EQ(field(g[1], "Status"), "5.1.1");
  }
  Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 bad\r\nInjected: yes")});
  Parsed p = parse(build(env).message);
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(field(groups(p.parts[1].body)[1], "Diagnostic-Code"),
            "smtp; 550 5.1.1 bad Injected: yes");
}

TEST(Dsn, InternationalizedAddresses) {
  struct Case {
    std::string from, rcpt;
    bool smtputf8;
    std::string final_field;
    bool envelope_utf8;
  };
  const std::vector<Case> cases = {
      {"alice@example.org", "j\xc3\xb6rg@example.net", true, "utf-8;j\xc3\xb6rg@example.net",
       false},
      {"alice@example.org", "b+\xc3\xa9=x@example.net", true,
       "utf-8;b\\x{2B}\xc3\xa9\\x{3D}x@example.net", false},
      {"\xc3\xa1lice@example.org", "bob@example.net", true, "rfc822;bob@example.net", true},
      {"alice@example.org", "bob@example.net", true, "rfc822;bob@example.net", false},
  };
  for (const Case& c : cases) {
    Envelope env = envelope({rcpt(c.rcpt, "550 5.1.1 no such user")}, c.from);
    env.smtputf8 = c.smtputf8;
    Dsn dsn = build(env);
    expect_lines_ok(dsn.message);
    EXPECT_EQ(dsn.envelope.smtputf8, c.envelope_utf8) << c.rcpt;
    Parsed p = parse(dsn.message);
    EXPECT_NE(field(p.top.headers, "Content-Type").find("report-type=global-delivery-status;"),
              std::string::npos);
    EXPECT_EQ(field(p.top.headers, "To"), "<" + c.from + ">");
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(field(p.parts[1].headers, "Content-Type"), "message/global-delivery-status");
    EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/global");
    std::vector<std::string> g = groups(p.parts[1].body);
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(field(g[1], "Final-Recipient"), c.final_field);
  }
  // The headers-only form of a global report.
  Envelope env = envelope({rcpt("j\xc3\xb6rg@example.net", "550 5.1.1 no")});
  Parsed p = parse(build(env, DsnKind::Failed, kOriginal, 10).message);
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/global-headers");
  EXPECT_EQ(field(p.parts[0].headers, "Content-Transfer-Encoding"), "8bit");
}

TEST(Dsn, EightBitOriginal) {
  Envelope env = envelope({rcpt("bob@example.net", "550 5.1.1 no")});
  env.eightbit = true;
  Dsn dsn = build(env, DsnKind::Failed, "Subject: x\r\n\r\ncaf\xc3\xa9\r\n");
  EXPECT_TRUE(dsn.envelope.eightbit);
  Parsed p = parse(dsn.message);
  ASSERT_EQ(p.parts.size(), 3u);
  EXPECT_EQ(field(p.top.headers, "Content-Transfer-Encoding"), "8bit");
  EXPECT_EQ(field(p.parts[2].headers, "Content-Type"), "message/rfc822");
  EXPECT_EQ(field(p.parts[2].headers, "Content-Transfer-Encoding"), "8bit");
}

// Python's email package, an independent MIME parser, reads what make_dsn writes.
TEST(Dsn, PythonEmailParsesIt) {
  const std::filesystem::path python = "/usr/bin/python3";
  const std::filesystem::path script =
      std::filesystem::path(HK_SOURCE_DIR) / "tests/unit/queue/dsn_check.py";
  if (!std::filesystem::exists(python)) {
    GTEST_SKIP() << "no " << python;
  }
  ASSERT_TRUE(std::filesystem::exists(script)) << script;
  hk::test::TempDir dir;
  struct Case {
    std::string name;
    Envelope env;
    DsnKind kind;
    size_t max;
  };
  Envelope global = envelope({rcpt("j\xc3\xb6rg@example.net", "550 5.1.1 no such user"),
                              rcpt("bob@example.net", "451 4.4.1 timeout", RcptState::Failed)},
                             "\xc3\xa1lice@example.org");
  global.smtputf8 = true;
  const std::vector<Case> cases = {
      {"plain", envelope({rcpt("bob@example.net", "550 5.1.1 no such user")}), DsnKind::Failed,
       64 * 1024},
      {"several",
       envelope({rcpt("a@example.net", "550 5.1.1 x\r\ny"),
                 rcpt("b@example.net", "connection refused", RcptState::Failed, "B@x")}),
       DsnKind::Failed, 64 * 1024},
      {"headers only", envelope({rcpt("bob@example.net", "552 5.3.4 " + std::string(500, 'l'))}),
       DsnKind::Failed, 10},
      {"delayed",
       envelope({rcpt("bob@example.net", "451 4.7.1 greylisted", RcptState::Pending, "", 2)}),
       DsnKind::Delayed, 64 * 1024},
      {"global", global, DsnKind::Failed, 64 * 1024},
      {"global headers", global, DsnKind::Failed, 10},
  };
  for (const Case& c : cases) {
    DsnInput in{c.env, all(c.env), kOriginal, "mx.example.org", "postmaster@mx.example.org",
                kNow,  c.kind,     c.max};
    in.retry_until = c.kind == DsnKind::Delayed ? kNow + 3 * 86400 : 0;
    std::optional<Dsn> made = make_dsn(in);
    ASSERT_TRUE(made) << c.name;
    const Dsn& dsn = *made;
    const std::filesystem::path file = dir.path() / "dsn.eml";
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << dsn.message;
    }
    const std::string command =
        python.string() + " '" + script.string() + "' < '" + file.string() + "'";
    int status = std::system(command.c_str());
    ASSERT_NE(status, -1);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << c.name << ": dsn_check.py failed on\n"
        << dsn.message;
  }
  // And the checker does fail on what is not a DSN.
  {
    std::ofstream out(dir.path() / "bad.eml", std::ios::binary | std::ios::trunc);
    out << kOriginal;
  }
  const std::string bad = python.string() + " '" + script.string() + "' < '" +
                          (dir.path() / "bad.eml").string() + "' 2>/dev/null";
  int status = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

}  // namespace
}  // namespace hk::queue
