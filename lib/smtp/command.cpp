// SMTP command-line parsing (RFC 5321 §4.1.1).
#include "lib/smtp/command.hpp"

#include <array>
#include <utility>

#include "lib/base/text.hpp"
#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// Whether a verb takes an argument (RFC 5321 §4.1.1 grammar of each command; RFC 3207 §4 for
// STARTTLS, RFC 3030 §2 for BDAT, RFC 4954 §4 for AUTH).
enum class ArgRule { Required, Optional, Forbidden };

struct VerbInfo {
  std::string_view name;
  Verb verb;
  ArgRule rule;
  std::string_view usage;
};

constexpr std::array<VerbInfo, 14> kVerbs{{
    {"HELO", Verb::Helo, ArgRule::Required, "HELO domain"},
    {"EHLO", Verb::Ehlo, ArgRule::Required, "EHLO domain"},
    {"MAIL", Verb::Mail, ArgRule::Required, "MAIL FROM:<address> [parameters]"},
    {"RCPT", Verb::Rcpt, ArgRule::Required, "RCPT TO:<address> [parameters]"},
    {"DATA", Verb::Data, ArgRule::Forbidden, "DATA"},
    {"BDAT", Verb::Bdat, ArgRule::Required, "BDAT size [LAST]"},
    {"RSET", Verb::Rset, ArgRule::Forbidden, "RSET"},
    {"NOOP", Verb::Noop, ArgRule::Optional, "NOOP [string]"},
    {"QUIT", Verb::Quit, ArgRule::Forbidden, "QUIT"},
    {"VRFY", Verb::Vrfy, ArgRule::Required, "VRFY string"},
    {"EXPN", Verb::Expn, ArgRule::Required, "EXPN string"},
    {"HELP", Verb::Help, ArgRule::Optional, "HELP [string]"},
    {"STARTTLS", Verb::StartTls, ArgRule::Forbidden, "STARTTLS"},
    {"AUTH", Verb::Auth, ArgRule::Required, "AUTH mechanism [initial-response]"},
}};

const VerbInfo* find_verb(Verb verb) {
  for (const VerbInfo& info : kVerbs) {
    if (info.verb == verb) {
      return &info;
    }
  }
  return nullptr;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) { return base::trim(s); }

}  // namespace

Command parse_command(std::string_view line) {
  size_t end = 0;
  while (end < line.size() && !is_space(line[end])) {
    ++end;
  }
  std::string_view word = line.substr(0, end);
  std::string_view rest = trim(line.substr(end));

  Command cmd;
  const VerbInfo* info = nullptr;
  for (const VerbInfo& candidate : kVerbs) {
    if (iequals(word, candidate.name)) {
      info = &candidate;
      break;
    }
  }
  if (info == nullptr) {
    cmd.arg = std::string(rest);
    return cmd;
  }
  cmd.verb = info->verb;

  // RFC 5321 §4.1.1.2 / §4.1.1.3: "MAIL FROM:" and "RCPT TO:" are one token for our purposes.
  if (cmd.verb == Verb::Mail || cmd.verb == Verb::Rcpt) {
    std::string_view marker = cmd.verb == Verb::Mail ? "FROM:" : "TO:";
    if (!istarts_with(rest, marker)) {
      cmd.arg = std::string(rest);
      cmd.syntax_ok = false;
      return cmd;
    }
    rest = trim(rest.substr(marker.size()));
  }

  cmd.arg = std::string(rest);
  switch (info->rule) {
    case ArgRule::Required:
      cmd.syntax_ok = !cmd.arg.empty();
      break;
    case ArgRule::Forbidden:
      cmd.syntax_ok = cmd.arg.empty();
      break;
    case ArgRule::Optional:
      break;
  }
  return cmd;
}

std::string_view verb_name(Verb verb) {
  const VerbInfo* info = find_verb(verb);
  return info != nullptr ? info->name : std::string_view("UNKNOWN");
}

Reply syntax_reply(Verb verb) {
  const VerbInfo* info = find_verb(verb);
  std::string usage = info != nullptr ? std::string(info->usage) : std::string("command");
  return Reply(501, "5.5.4", "Syntax: " + usage);
}

Reply unknown_command_reply() { return Reply(500, "5.5.1", "Command unrecognized"); }

}  // namespace hk::smtp
