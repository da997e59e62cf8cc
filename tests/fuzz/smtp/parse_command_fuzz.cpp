// libFuzzer target: a client's byte stream through LineBuffer, parse_command and the MAIL/RCPT
// parameter parsers, and the same bytes as a server's reply stream through ReplyParser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "lib/smtp/auth.hpp"
#include "lib/smtp/client_reply.hpp"
#include "lib/smtp/command.hpp"
#include "lib/smtp/line_buffer.hpp"
#include "lib/smtp/params.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

// An exact-size heap copy: std::string's inline buffer would hide over-reads from ASan.
std::vector<char> exact(std::string_view s) { return std::vector<char>(s.begin(), s.end()); }
std::string_view view(const std::vector<char>& v) { return {v.data(), v.size()}; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hk::smtp;
  if (size == 0) {
    return 0;
  }
  // The first byte picks the line limit and the read chunk size, so that overlong lines and
  // lines split across reads are both exercised.
  const size_t max = 8 + data[0] % 120;
  const size_t chunk = 1 + data[0] % 7;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  LineBuffer lines(max);
  ReplyParser replies;
  bool smtputf8 = false;
  for (size_t at = 0; at < in.size(); at += chunk) {
    lines.append(in.substr(at, chunk));
    check(lines.buffered() <= max + chunk);
    while (std::optional<Line> line = lines.next()) {
      check(line->text.size() <= max - 2);
      check(line->too_long || line->text.find('\n') == std::string::npos);
      const std::vector<char> text = exact(line->text);
      Command cmd = parse_command(view(text));
      check(verb_name(cmd.verb).size() > 0);
      if (cmd.verb == Verb::Mail && cmd.syntax_ok) {
        const std::vector<char> arg = exact(cmd.arg);
        MailResult m = parse_mail_from(view(arg));
        check(m.ok || (m.error.code >= 500 && !m.error.lines.empty()));
        smtputf8 = m.ok && m.value.smtputf8;
      } else if (cmd.verb == Verb::Rcpt && cmd.syntax_ok) {
        const std::vector<char> arg = exact(cmd.arg);
        RcptResult r = parse_rcpt_to(view(arg), smtputf8);
        check(r.ok || (r.error.code >= 500 && !r.error.lines.empty()));
        check(!r.ok || smtputf8 || !r.value.to.utf8);
      } else if (cmd.verb == Verb::Auth && cmd.syntax_ok) {
        size_t sp = cmd.arg.find(' ');
        if (sp != std::string::npos) {
          const std::vector<char> response = exact(std::string_view(cmd.arg).substr(sp + 1));
          std::optional<PlainCredentials> creds = decode_auth_plain(view(response));
          check(!creds || (!creds->authcid.empty() && !creds->password.empty()));
        }
      }
      if (replies.feed(view(text)) != ReplyParser::Status::More) {
        Reply r = replies.take();
        check(r.lines.size() * 2 <= ReplyParser::kMaxReplyBytes);
        parse_ehlo(r);
      }
    }
  }
  lines.take_rest();
  check(lines.empty());
  return 0;
}
