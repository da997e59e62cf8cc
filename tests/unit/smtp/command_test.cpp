// Tests for parse_command: verbs, arguments and the syntax_ok flag.
#include "lib/smtp/command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hk::smtp {
namespace {

struct CommandCase {
  std::string line;
  Verb verb;
  std::string arg;
  bool syntax_ok;
};

class ParseCommandTest : public ::testing::TestWithParam<CommandCase> {};

TEST_P(ParseCommandTest, SplitsVerbAndArgument) {
  const CommandCase& c = GetParam();
  Command cmd = parse_command(c.line);
  EXPECT_EQ(cmd.verb, c.verb) << c.line;
  EXPECT_EQ(cmd.arg, c.arg) << c.line;
  EXPECT_EQ(cmd.syntax_ok, c.syntax_ok) << c.line;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseCommandTest,
    ::testing::Values(
        CommandCase{"HELO example.com", Verb::Helo, "example.com", true},
        CommandCase{"ehlo  client.example ", Verb::Ehlo, "client.example", true},
        CommandCase{"EhLo [192.0.2.1]", Verb::Ehlo, "[192.0.2.1]", true},
        CommandCase{"EHLO", Verb::Ehlo, "", false}, CommandCase{"HELO ", Verb::Helo, "", false},
        CommandCase{"MAIL FROM:<a@b.example>", Verb::Mail, "<a@b.example>", true},
        CommandCase{"mail from:<a@b> SIZE=10", Verb::Mail, "<a@b> SIZE=10", true},
        CommandCase{"MAIL FROM: <a@b>", Verb::Mail, "<a@b>", true},
        CommandCase{"MAIL FROM:<>", Verb::Mail, "<>", true},
        CommandCase{"MAIL <a@b>", Verb::Mail, "<a@b>", false},
        CommandCase{"MAIL", Verb::Mail, "", false},
        CommandCase{"MAIL FROM:", Verb::Mail, "", false},
        CommandCase{"MAIL FROM :<a@b>", Verb::Mail, "FROM :<a@b>", false},
        CommandCase{"MAIL TO:<a@b>", Verb::Mail, "TO:<a@b>", false},
        CommandCase{"RCPT TO:<x@y>", Verb::Rcpt, "<x@y>", true},
        CommandCase{"rcpt to: <x@y> NOTIFY=NEVER", Verb::Rcpt, "<x@y> NOTIFY=NEVER", true},
        CommandCase{"RCPT <x@y>", Verb::Rcpt, "<x@y>", false},
        CommandCase{"RCPT FROM:<x@y>", Verb::Rcpt, "FROM:<x@y>", false},
        CommandCase{"DATA", Verb::Data, "", true}, CommandCase{"data ", Verb::Data, "", true},
        CommandCase{"DATA now", Verb::Data, "now", false},
        CommandCase{"BDAT 100 LAST", Verb::Bdat, "100 LAST", true},
        CommandCase{"BDAT", Verb::Bdat, "", false}, CommandCase{"RSET", Verb::Rset, "", true},
        CommandCase{"RSET x", Verb::Rset, "x", false}, CommandCase{"NOOP", Verb::Noop, "", true},
        CommandCase{"NOOP hello there", Verb::Noop, "hello there", true},
        CommandCase{"QUIT", Verb::Quit, "", true},
        CommandCase{"QUIT please", Verb::Quit, "please", false},
        CommandCase{"VRFY user", Verb::Vrfy, "user", true},
        CommandCase{"VRFY", Verb::Vrfy, "", false},
        CommandCase{"EXPN list", Verb::Expn, "list", true},
        CommandCase{"HELP", Verb::Help, "", true},
        CommandCase{"HELP MAIL", Verb::Help, "MAIL", true},
        CommandCase{"STARTTLS", Verb::StartTls, "", true},
        CommandCase{"StartTLS", Verb::StartTls, "", true},
        CommandCase{"STARTTLS now", Verb::StartTls, "now", false},
        CommandCase{"AUTH PLAIN AGFiAGM=", Verb::Auth, "PLAIN AGFiAGM=", true},
        CommandCase{"AUTH", Verb::Auth, "", false},
        CommandCase{"FOO bar", Verb::Unknown, "bar", true},
        CommandCase{"", Verb::Unknown, "", true},
        CommandCase{"MAILFROM:<a@b>", Verb::Unknown, "", true},
        CommandCase{"HELOx y", Verb::Unknown, "y", true},
        CommandCase{"HELO\tx", Verb::Helo, "x", true}));

TEST(VerbName, UpperCaseWireNames) {
  EXPECT_EQ(verb_name(Verb::Helo), "HELO");
  EXPECT_EQ(verb_name(Verb::Mail), "MAIL");
  EXPECT_EQ(verb_name(Verb::Rcpt), "RCPT");
  EXPECT_EQ(verb_name(Verb::StartTls), "STARTTLS");
  EXPECT_EQ(verb_name(Verb::Auth), "AUTH");
  EXPECT_EQ(verb_name(Verb::Unknown), "UNKNOWN");
}

TEST(VerbName, RoundTripsThroughParse) {
  for (Verb v : {Verb::Helo, Verb::Ehlo, Verb::Data, Verb::Bdat, Verb::Rset, Verb::Noop, Verb::Quit,
                 Verb::Vrfy, Verb::Expn, Verb::Help, Verb::StartTls, Verb::Auth}) {
    EXPECT_EQ(parse_command(std::string(verb_name(v)) + " x").verb, v);
  }
}

TEST(SyntaxReply, Is501WithUsage) {
  Reply r = syntax_reply(Verb::Mail);
  EXPECT_EQ(r.code, 501);
  EXPECT_EQ(r.enhanced, "5.5.4");
  EXPECT_EQ(r.wire(), "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]\r\n");
  EXPECT_EQ(unknown_command_reply().code, 500);
  EXPECT_EQ(unknown_command_reply().enhanced, "5.5.1");
}

}  // namespace
}  // namespace hk::smtp
