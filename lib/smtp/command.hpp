// SMTP command lines (RFC 5321 §4.1.1): the verb and its argument, split from one line that the
// caller has already taken off the wire without its CRLF.
#pragma once

#include <string>
#include <string_view>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

enum class Verb {
  Helo,
  Ehlo,
  Mail,
  Rcpt,
  Data,
  Bdat,
  Rset,
  Noop,
  Quit,
  Vrfy,
  Expn,
  Help,
  StartTls,
  Auth,
  Unknown
};

struct Command {
  Verb verb = Verb::Unknown;
  // What follows the verb (for MAIL and RCPT: what follows "FROM:"/"TO:"), leading and trailing
  // spaces removed. For Unknown: everything after the first word.
  std::string arg;
  // False when the argument is missing, present where none is allowed (DATA, RSET, QUIT,
  // STARTTLS), or MAIL/RCPT lack "FROM:"/"TO:". The server answers syntax_reply(verb).
  bool syntax_ok = true;
};

// Verbs are case-insensitive (RFC 5321 §2.4). "MAIL FROM: <a@b>" is accepted although the
// grammar has no space after the colon: many clients send it and it is unambiguous.
Command parse_command(std::string_view line);

// Upper-case name as on the wire ("STARTTLS"); "MAIL FROM"/"RCPT TO" are "MAIL"/"RCPT".
std::string_view verb_name(Verb verb);

// 501 5.5.4 with the expected syntax, for a Command whose syntax_ok is false (RFC 5321 §4.2.2
// "501 Syntax error in parameters or arguments"; RFC 3463 X.5.4 invalid command arguments).
Reply syntax_reply(Verb verb);

// 500 5.5.1 for Verb::Unknown (RFC 5321 §4.2.2 "500 Syntax error, command unrecognized").
Reply unknown_command_reply();

}  // namespace hk::smtp
