// libFuzzer target: what a remote server says to our SMTP client — its reply lines through
// ReplyParser (RFC 5321 §4.2, enhanced codes RFC 3463) and EHLO replies through parse_ehlo.
// Invariants: an assembled reply has a code of 200-559 and at least one line, its enhanced code
// has the reply's class, its size is bounded; a reply printed with Reply::wire() parses back to
// the same reply; after Malformed the parser refuses everything until reset().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/smtp/client_reply.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

using hk::smtp::Reply;
using hk::smtp::ReplyParser;

void check_reply(const Reply& r) {
  check(r.code >= 200 && r.code <= 559);
  check(!r.lines.empty());
  check(r.enhanced.empty() || r.enhanced[0] == static_cast<char>('0' + r.code / 100));
  size_t bytes = 0;
  for (const std::string& l : r.lines) {
    bytes += l.size() + 6;
  }
  check(bytes <= ReplyParser::kMaxReplyBytes);
}

// The reply as the server would send it again, read back line by line.
void check_round_trip(const Reply& r) {
  ReplyParser p;
  std::string wire = r.wire();
  std::string_view rest = wire;
  ReplyParser::Status s = ReplyParser::Status::More;
  while (!rest.empty()) {
    check(s == ReplyParser::Status::More);
    size_t end = rest.find("\r\n");
    check(end != std::string_view::npos);
    s = p.feed(rest.substr(0, end));
    rest.remove_prefix(end + 2);
  }
  if (s == ReplyParser::Status::Malformed) {
    // Only the size bound may refuse it: wire() repeats the enhanced code on every line.
    check(wire.size() > ReplyParser::kMaxReplyBytes);
    return;
  }
  check(s == ReplyParser::Status::Done);
  Reply back = p.take();
  check(back.code == r.code && back.enhanced == r.enhanced && back.lines == r.lines);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ReplyParser parser;
  bool failed = false;
  while (!in.empty()) {
    size_t lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    in = lf == std::string_view::npos ? std::string_view() : in.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    // An exact-size heap copy, so that ASan sees any read past the line.
    std::vector<char> copy(line.begin(), line.end());
    ReplyParser::Status s = parser.feed(std::string_view(copy.data(), copy.size()));
    if (failed) {
      check(s == ReplyParser::Status::Malformed);
      parser.reset();  // as the client does not: it drops the connection; here, go on reading
      failed = false;
      continue;
    }
    if (s == ReplyParser::Status::Malformed) {
      failed = true;
      continue;
    }
    if (s == ReplyParser::Status::Done) {
      Reply r = parser.take();
      check_reply(r);
      check_round_trip(r);
      hk::smtp::EhloInfo e = hk::smtp::parse_ehlo(r);
      for (const std::string& m : e.auth) {
        check(!m.empty() && m.find(' ') == std::string::npos);
        for (char c : m) {
          check(!(c >= 'a' && c <= 'z'));
        }
      }
      check(r.code == 250 || (!e.pipelining && !e.starttls && !e.size && e.auth.empty()));
    }
  }
  return 0;
}
