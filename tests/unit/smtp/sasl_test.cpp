// Tests for the AUTH PLAIN / AUTH LOGIN state machine: every exchange the session can see, with
// the exact challenges and replies on the wire.
#include "lib/smtp/sasl.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/base/base64.hpp"
#include "lib/smtp/auth.hpp"

namespace hk::smtp {
namespace {

using namespace std::string_literals;
using Kind = SaslStep::Kind;

// A continuation "line" that stands for abort(): the answer was too long or never came.
const std::string kAbort = "<abort>";

struct Case {
  const char* name;
  std::string arg;                      // what follows "AUTH "
  std::vector<std::string> lines;       // the client's answers, in order
  std::vector<std::string> challenges;  // the 334 replies on the wire, in order
  Kind end;
  std::string reply = {};  // the final reply on the wire; empty for Credentials
  std::string username = {};
  std::string password = {};
};

std::string b64(const std::string& s) { return base::base64_encode(s); }

const std::string kPlain = b64("\0alice@example.test\0secret"s);
const std::string kUser = b64("alice@example.test");
const std::string kPass = b64("secret");
const std::string kUserPrompt = "334 VXNlcm5hbWU6\r\n";
const std::string kPassPrompt = "334 UGFzc3dvcmQ6\r\n";
const std::string kCancelled = "501 5.0.0 Authentication cancelled\r\n";
const std::string kAborted = "501 5.5.2 Authentication aborted\r\n";
const std::string kBadPlain = "501 5.5.2 Malformed AUTH PLAIN response\r\n";
const std::string kBadLogin = "501 5.5.2 Malformed AUTH LOGIN response\r\n";
const std::string kUnsupported = "504 5.5.4 Unrecognized authentication type\r\n";

const Case kCases[] = {
    {"plain initial",
     "PLAIN " + kPlain,
     {},
     {},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"plain lower case",
     "plain " + kPlain,
     {},
     {},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"plain after challenge",
     "PLAIN",
     {kPlain},
     {"334 \r\n"},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"plain same authzid",
     "PLAIN " + b64("bob\0bob\0pw"s),
     {},
     {},
     Kind::Credentials,
     "",
     "bob",
     "pw"},
    {"plain initial cancel", "PLAIN *", {}, {}, Kind::Cancelled, kCancelled},
    {"plain cancel", "PLAIN", {"*"}, {"334 \r\n"}, Kind::Cancelled, kCancelled},
    {"plain empty initial", "PLAIN =", {}, {}, Kind::Malformed, kBadPlain},
    {"plain empty answer", "PLAIN", {"="}, {"334 \r\n"}, Kind::Malformed, kBadPlain},
    {"plain bad base64", "PLAIN !!!!", {}, {}, Kind::Malformed, kBadPlain},
    {"plain no NULs", "PLAIN " + b64("alicesecret"), {}, {}, Kind::Malformed, kBadPlain},
    {"plain proxy authzid",
     "PLAIN " + b64("admin\0alice\0secret"s),
     {},
     {},
     Kind::Malformed,
     kBadPlain},
    {"plain two spaces", "PLAIN  " + kPlain, {}, {}, Kind::Malformed, kBadPlain},
    {"plain aborted", "PLAIN", {kAbort}, {"334 \r\n"}, Kind::Aborted, kAborted},
    {"login",
     "LOGIN",
     {kUser, kPass},
     {kUserPrompt, kPassPrompt},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"login mixed case",
     "LoGiN",
     {kUser, kPass},
     {kUserPrompt, kPassPrompt},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"login initial username",
     "LOGIN " + kUser,
     {kPass},
     {kPassPrompt},
     Kind::Credentials,
     "",
     "alice@example.test",
     "secret"},
    {"login initial cancel", "LOGIN *", {}, {}, Kind::Cancelled, kCancelled},
    {"login cancel username", "LOGIN", {"*"}, {kUserPrompt}, Kind::Cancelled, kCancelled},
    {"login cancel password",
     "LOGIN",
     {kUser, "*"},
     {kUserPrompt, kPassPrompt},
     Kind::Cancelled,
     kCancelled},
    // The name is decoded only after the password has been asked for.
    {"login bad username",
     "LOGIN",
     {"a", kPass},
     {kUserPrompt, kPassPrompt},
     Kind::Malformed,
     kBadLogin},
    {"login bad password",
     "LOGIN",
     {kUser, "c2Vj=mV0"},
     {kUserPrompt, kPassPrompt},
     Kind::Malformed,
     kBadLogin},
    {"login empty password", "LOGIN " + kUser, {"="}, {kPassPrompt}, Kind::Malformed, kBadLogin},
    {"login aborted at username", "LOGIN", {kAbort}, {kUserPrompt}, Kind::Aborted, kAborted},
    {"login aborted at password",
     "LOGIN",
     {kUser, kAbort},
     {kUserPrompt, kPassPrompt},
     Kind::Aborted,
     kAborted},
    {"unknown mechanism", "CRAM-MD5", {}, {}, Kind::Unsupported, kUnsupported},
    {"unknown with initial", "XOAUTH2 " + kPlain, {}, {}, Kind::Unsupported, kUnsupported},
    {"empty mechanism", "", {}, {}, Kind::Unsupported, kUnsupported},
};

TEST(SaslExchange, Exchanges) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    SaslExchange sasl;
    SaslStep step = sasl.start(c.arg);
    size_t answered = 0;
    while (step.kind == Kind::Challenge) {
      ASSERT_LT(answered, c.challenges.size()) << "unexpected " << step.reply.wire();
      EXPECT_EQ(step.reply.wire(), c.challenges[answered]);
      EXPECT_FALSE(step.reply.close);
      ASSERT_LT(answered, c.lines.size());
      const std::string& line = c.lines[answered++];
      step = line == kAbort ? sasl.abort() : sasl.respond(line);
    }
    EXPECT_EQ(answered, c.challenges.size());
    EXPECT_EQ(answered, c.lines.size());
    EXPECT_EQ(step.kind, c.end);
    if (c.end == Kind::Credentials) {
      EXPECT_EQ(step.username, c.username);
      EXPECT_EQ(step.password, c.password);
    } else {
      EXPECT_EQ(step.reply.wire(), c.reply);
      // Only an exchange that lost its answer closes the connection.
      EXPECT_EQ(step.reply.close, c.end == Kind::Aborted);
      EXPECT_TRUE(step.username.empty());
      EXPECT_TRUE(step.password.empty());
    }
  }
}

TEST(SaslExchange, AnswerWithoutChallengeEndsTheExchange) {
  SaslExchange sasl;
  EXPECT_EQ(sasl.respond(kPlain).kind, Kind::Aborted);
  SaslExchange done;
  ASSERT_EQ(done.start("PLAIN " + kPlain).kind, Kind::Credentials);
  SaslStep again = done.respond(kPlain);
  EXPECT_EQ(again.kind, Kind::Aborted);
  EXPECT_TRUE(again.reply.close);
}

}  // namespace
}  // namespace hk::smtp
