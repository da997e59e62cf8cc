// Tests for the queue file format: escaping, the header block and the state sidecar.
#include "lib/queue/queue_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hk::queue {
namespace {

using std::chrono::seconds;

TEST(QueueFile, EscapeRoundTripsOddValues) {
  struct Case {
    std::string in;
    std::string escaped;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"plain@example.org", "plain@example.org"},
      {"a b", "a%20b"},
      {"cr\rlf\n", "cr%0Dlf%0A"},
      {"100%", "100%25"},
      {std::string("nul\0x", 5), "nul%00x"},
      {"del\x7f", "del%7F"},
      {"tab\there", "tab%09here"},
      {"utf8 \xc3\xa9t\xc3\xa9", "utf8%20\xc3\xa9t\xc3\xa9"},
      {"%0A", "%250A"},
  };
  for (const Case& c : cases) {
    std::string escaped = escape_value(c.in);
    EXPECT_EQ(escaped, c.escaped) << c.in;
    EXPECT_EQ(escaped.find_first_of("\r\n "), std::string::npos);
    std::string back;
    ASSERT_TRUE(unescape_value(escaped, back)) << escaped;
    EXPECT_EQ(back, c.in);
  }
}

TEST(QueueFile, UnescapeRejectsMalformed) {
  for (const char* bad : {"%", "%4", "abc%", "%zz", "%g0", "x%0"}) {
    std::string out;
    EXPECT_FALSE(unescape_value(bad, out)) << bad;
  }
  std::string out;
  EXPECT_TRUE(unescape_value("%0a%0D", out));
  EXPECT_EQ(out, "\n\r");
}

TEST(QueueFile, ValidId) {
  struct Case {
    std::string id;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"0CHXS8Q2M3T4V7KD2PQ", true},
      {"abc_DEF-09", true},
      {"", false},
      {"../etc", false},
      {"a/b", false},
      {".hidden", false},
      {"a.msg", false},
      {"a b", false},
      {std::string(64, 'A'), true},
      {std::string(65, 'A'), false},
      {"\xc3\xa9", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(valid_id(c.id), c.ok) << c.id;
  }
}

Envelope odd_envelope() {
  Envelope env;
  env.id = "0CHXS8Q2M3T4V7KD2PQ";
  env.created = TimePoint(seconds(1718000000));
  env.from = "we ird\r\nX-Injected: yes@example.org";
  env.client_ip = "2001:db8::1";
  env.helo = "[192.0.2.1] % \t";
  env.auth_user = "";
  env.smtputf8 = true;
  env.eightbit = true;
  Recipient a;
  a.address = "bob@example.net";
  a.original = "Bob@Example.NET";
  a.local = true;
  Recipient b;
  b.address = "\xe7\x94\xb0\xe4\xb8\xad@example.jp";
  b.original = "";
  Recipient c;
  c.address = "";
  c.original = "odd \n one";
  env.rcpts = {a, b, c};
  return env;
}

TEST(QueueFile, HeaderRoundTrip) {
  Envelope env = odd_envelope();
  std::string header = encode_header(env);
  EXPECT_EQ(header.rfind("hikyaku-queue 1\n", 0), 0u);
  EXPECT_EQ(header.substr(header.size() - 2), "\n\n");
  EXPECT_EQ(header_end(header + "Subject: x\r\n\r\nbody\r\n"), header.size());
  // No value may add a line: exactly one line per key plus magic and the empty line.
  size_t lines = static_cast<size_t>(std::count(header.begin(), header.end(), '\n'));
  EXPECT_EQ(lines, 1u + 8u + env.rcpts.size() + 1u);

  Envelope back;
  ASSERT_FALSE(parse_header(header, back));
  EXPECT_EQ(back.id, env.id);
  EXPECT_EQ(back.created, env.created);
  EXPECT_EQ(back.from, env.from);
  EXPECT_EQ(back.client_ip, env.client_ip);
  EXPECT_EQ(back.helo, env.helo);
  EXPECT_EQ(back.auth_user, env.auth_user);
  EXPECT_TRUE(back.smtputf8);
  EXPECT_TRUE(back.eightbit);
  ASSERT_EQ(back.rcpts.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.rcpts[i].address, env.rcpts[i].address);
    EXPECT_EQ(back.rcpts[i].original, env.rcpts[i].original);
    EXPECT_EQ(back.rcpts[i].local, env.rcpts[i].local);
    EXPECT_EQ(back.rcpts[i].state, RcptState::Pending);
    EXPECT_EQ(back.rcpts[i].attempts, 0);
  }
}

TEST(QueueFile, HeaderRejectsMalformed) {
  const std::string good = encode_header(odd_envelope());
  const std::vector<std::string> bad = {
      "",
      "hikyaku-queue 2\nid: A\ncreated: 1\n\n",
      "hikyaku-queue 1\ncreated: 1\n\n",                          // no id
      "hikyaku-queue 1\nid: A\n\n",                               // no created
      "hikyaku-queue 1\nid: ../x\ncreated: 1\n\n",                // unsafe id
      "hikyaku-queue 1\nid: A\ncreated: -5\n\n",                  // negative time
      "hikyaku-queue 1\nid: A\ncreated: 12x\n\n",                 // not a number
      "hikyaku-queue 1\nid: A\ncreated: 1\nno colon here\n\n",    // malformed line
      "hikyaku-queue 1\nid: A\ncreated: 1\nrcpt: local a\n\n",    // missing field
      "hikyaku-queue 1\nid: A\ncreated: 1\nrcpt: maybe a b\n\n",  // bad kind
      "hikyaku-queue 1\nid: A\ncreated: 1\nfrom: %zz\n\n",        // bad escape
      "hikyaku-queue 1\nid: A\ncreated: 1\nsmtputf8: 1\n\n",      // bad flag
      "hikyaku-queue 1\nid: A\ncreated: 1\nbody: binarymime\n\n",
      "hikyaku-queue 1\nid: A\ncreated: 1\nrcpt-sender: s@x\n\n",  // before any rcpt
      "hikyaku-queue 1\nid: A\ncreated: 1\nrcpt: remote a a\nrcpt-sender:\n\n",
      "hikyaku-queue 1\nid: A\ncreated: 1\nrcpt: remote a a\nrcpt-sender: s\nrcpt-sender: t\n\n",
      "hikyaku-queue 1\nid: A\ncreated: 1\nrequiretls: maybe\n\n",
  };
  for (const std::string& b : bad) {
    Envelope env;
    EXPECT_EQ(parse_header(b, env), std::errc::bad_message) << b;
  }
  Envelope env;
  EXPECT_FALSE(parse_header("hikyaku-queue 1\nid: A\ncreated: 1\nfuture-key: x\n\n", env));
  EXPECT_EQ(env.id, "A");
}

// SRS (docs/srs.md): a forwarded recipient's own reverse-path, on a line after its rcpt line.
TEST(QueueFile, RecipientSenderRoundTripAndOldFilesRead) {
  Envelope env = odd_envelope();
  env.rcpts[1].sender = "SRS0=AbCd=TA=example.org=a=b+c@fwd.example";
  env.rcpts[2].sender = "odd sender%";
  std::string header = encode_header(env);
  EXPECT_NE(header.find("\nrcpt-sender: SRS0=AbCd=TA=example.org=a=b+c@fwd.example\n"),
            std::string::npos);
  Envelope back;
  ASSERT_FALSE(parse_header(header, back));
  ASSERT_EQ(back.rcpts.size(), 3u);
  EXPECT_EQ(back.rcpts[0].sender, "");
  EXPECT_EQ(back.rcpts[1].sender, env.rcpts[1].sender);
  EXPECT_EQ(back.rcpts[2].sender, "odd sender%");
  // A file written before the key existed.
  Envelope old;
  ASSERT_FALSE(
      parse_header("hikyaku-queue 1\nid: A\ncreated: 1\nfrom: s@x\nrcpt: remote a@b a@b\n\n", old));
  ASSERT_EQ(old.rcpts.size(), 1u);
  EXPECT_EQ(old.rcpts[0].sender, "");
  // Without a sender set, the header is byte for byte what it was.
  EXPECT_EQ(encode_header(odd_envelope()).find("rcpt-sender"), std::string::npos);
}

// RFC 8689 REQUIRETLS: one more line only when set; files written before it read as unset.
TEST(QueueFile, RequireTlsFlag) {
  Envelope env = odd_envelope();
  const std::string plain = encode_header(env);
  EXPECT_EQ(plain.find("requiretls"), std::string::npos);
  Envelope back;
  ASSERT_FALSE(parse_header(plain, back));
  EXPECT_FALSE(back.requiretls);

  env.requiretls = true;
  const std::string flagged = encode_header(env);
  EXPECT_NE(flagged.find("\nrequiretls: yes\n"), std::string::npos);
  ASSERT_FALSE(parse_header(flagged, back));
  EXPECT_TRUE(back.requiretls);

  // A file in the format before the key existed.
  ASSERT_FALSE(parse_header(
      "hikyaku-queue 1\nid: A\ncreated: 1\nfrom: a@example.org\nrcpt: remote b@example.net "
      "b@example.net\nsmtputf8: no\nbody: 7bit\n\n",
      back));
  EXPECT_FALSE(back.requiretls);
  EXPECT_EQ(back.rcpts.size(), 1u);
}

TEST(QueueFile, StateRoundTrip) {
  Envelope env = odd_envelope();
  env.rcpts[0].state = RcptState::Delivered;
  env.rcpts[0].attempts = 1;
  env.rcpts[0].last_code = 250;
  env.rcpts[0].last_enhanced = "2.0.0";
  env.rcpts[0].last_text = "ok";
  env.rcpts[1].state = RcptState::Pending;
  env.rcpts[1].attempts = 3;
  env.rcpts[1].next_attempt = TimePoint(seconds(1718003600));
  env.rcpts[1].last_code = 451;
  env.rcpts[1].last_enhanced = "4.7.1";
  env.rcpts[1].last_text = "try\r\nlater";
  env.rcpts[2].state = RcptState::Failed;
  env.rcpts[2].attempts = 7;
  env.rcpts[2].last_text = "connection refused by 192.0.2.1:25";  // ours: no codes
  std::string state = encode_state(env);
  // The reply is stored in its one-line form, as before the parts were kept apart.
  EXPECT_NE(state.find(" 451%204.7.1%20try%0D%0Alater\n"), std::string::npos) << state;

  Envelope back;
  ASSERT_FALSE(parse_header(encode_header(env), back));
  ASSERT_FALSE(apply_state(state, back));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.rcpts[i].state, env.rcpts[i].state) << i;
    EXPECT_EQ(back.rcpts[i].attempts, env.rcpts[i].attempts) << i;
    EXPECT_EQ(back.rcpts[i].next_attempt, env.rcpts[i].next_attempt) << i;
    EXPECT_EQ(back.rcpts[i].last_code, env.rcpts[i].last_code) << i;
    EXPECT_EQ(back.rcpts[i].last_enhanced, env.rcpts[i].last_enhanced) << i;
    EXPECT_EQ(back.rcpts[i].last_text, env.rcpts[i].last_text) << i;
  }
  EXPECT_EQ(encode_state(back), state);
}

// A sidecar as versions before the split wrote it (reply lines made by the SMTP client, the
// Maildir courier and the runner) reads into the parts, and is written back byte for byte, so
// that older and newer versions can take turns on one queue.
TEST(QueueFile, StateInTheFormerFormatReadsIntoParts) {
  const std::string former =
      "hikyaku-state 1\n"
      "delay-warned: 1718014400\n"
      "rcpt: 0 delivered 1 0 bob@example.net 250%202.0.0%20delivered%20to%20maildir\n"
      "rcpt: 1 pending 3 1718003600 \xe7\x94\xb0\xe4\xb8\xad@example.jp "
      "451%204.7.1%20greylisted,%20see%20you\n"
      "rcpt: 2 failed 7 0 %20 connection%20refused%20by%20192.0.2.1:25\n";
  Envelope env;
  ASSERT_FALSE(parse_header(encode_header(odd_envelope()), env));
  env.rcpts[2].address = " ";
  ASSERT_FALSE(apply_state(former, env));
  EXPECT_EQ(env.rcpts[0].last_code, 250);
  EXPECT_EQ(env.rcpts[0].last_enhanced, "2.0.0");
  EXPECT_EQ(env.rcpts[0].last_text, "delivered to maildir");
  EXPECT_EQ(env.rcpts[1].last_code, 451);
  EXPECT_EQ(env.rcpts[1].last_enhanced, "4.7.1");
  EXPECT_EQ(env.rcpts[1].last_text, "greylisted, see you");
  EXPECT_EQ(env.rcpts[2].last_code, 0);
  EXPECT_EQ(env.rcpts[2].last_enhanced, "");
  EXPECT_EQ(env.rcpts[2].last_text, "connection refused by 192.0.2.1:25");
  EXPECT_EQ(encode_state(env), former);
}

TEST(QueueFile, StateKeepsDelayWarned) {
  Envelope env = odd_envelope();
  env.rcpts[1].attempts = 2;
  // Never warned: no line at all, so the sidecar reads as it did before the key existed.
  std::string state = encode_state(env);
  EXPECT_EQ(state.find("delay-warned"), std::string::npos) << state;
  Envelope back;
  ASSERT_FALSE(parse_header(encode_header(env), back));
  ASSERT_FALSE(apply_state(state, back));
  EXPECT_EQ(back.delay_warned, TimePoint{});

  env.delay_warned = TimePoint(seconds(1718014400));
  state = encode_state(env);
  EXPECT_NE(state.find("\ndelay-warned: 1718014400\n"), std::string::npos) << state;
  ASSERT_FALSE(parse_header(encode_header(env), back));
  ASSERT_FALSE(apply_state(state, back));
  EXPECT_EQ(back.delay_warned, env.delay_warned);
  EXPECT_EQ(back.rcpts[1].attempts, 2);

  // A sidecar written before delay warnings existed (no such line) still reads.
  ASSERT_FALSE(parse_header(encode_header(env), back));
  ASSERT_FALSE(
      apply_state("hikyaku-state 1\nrcpt: 0 pending 4 1718003600 bob@example.net 451\n", back));
  EXPECT_EQ(back.delay_warned, TimePoint{});
  EXPECT_EQ(back.rcpts[0].attempts, 4);

  for (std::string bad : {"", "0", "-5", "12x", "soon"}) {
    Envelope copy = env;
    copy.delay_warned = TimePoint{};
    EXPECT_EQ(apply_state("hikyaku-state 1\ndelay-warned: " + bad + "\n", copy),
              std::errc::bad_message)
        << bad;
    EXPECT_EQ(copy.delay_warned, TimePoint{});  // untouched on error
  }
}

TEST(QueueFile, StateRejectsMismatch) {
  Envelope env = odd_envelope();
  const std::vector<std::string> bad = {
      "hikyaku-state 9\n",
      "hikyaku-state 1\nrcpt: 3 pending 0 0 x \n",                   // index out of range
      "hikyaku-state 1\nrcpt: 0 pending 0 0 other@example.net \n",   // wrong address
      "hikyaku-state 1\nrcpt: 0 lost 0 0 bob@example.net \n",        // bad state
      "hikyaku-state 1\nrcpt: 0 pending -1 0 bob@example.net \n",    // bad attempts
      "hikyaku-state 1\nrcpt: 0 pending 0 0 bob@example.net\n",      // missing field
      "hikyaku-state 1\nrcpt: 0 pending 0 0 bob@example.net a b\n",  // extra field
  };
  for (const std::string& b : bad) {
    Envelope copy = env;
    EXPECT_EQ(apply_state(b, copy), std::errc::bad_message) << b;
    EXPECT_EQ(copy.rcpts[0].state, RcptState::Pending);  // untouched on error
  }
}

}  // namespace
}  // namespace hk::queue
