// libFuzzer target: the server side of AUTH (RFC 4954) — SaslExchange fed an AUTH argument and
// then the client's answers, one per input line — and the PLAIN message decoder (RFC 4616).
// Invariants: every step is a 334 challenge, credentials, or an end with a 5xx reply; nothing is
// answered after the exchange ended; at most two challenges are sent; credentials that come out
// go back in (encoded as a client would) and come out the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/base64.hpp"
#include "lib/smtp/auth.hpp"
#include "lib/smtp/sasl.hpp"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

using hk::smtp::SaslExchange;
using hk::smtp::SaslStep;
using Kind = SaslStep::Kind;

// Feeds `lines` (the AUTH argument first) and returns the last step; checks each step.
SaslStep run(const std::vector<std::string_view>& lines, bool* ended_early) {
  SaslExchange x;
  SaslStep step = x.start(lines[0]);
  int challenges = 0;
  *ended_early = false;
  for (size_t i = 1;; ++i) {
    if (step.kind == Kind::Challenge) {
      check(step.reply.code == 334 && step.reply.lines.size() == 1);
      check(++challenges <= 2);  // PLAIN: one, LOGIN: two (user name, password)
    } else if (step.kind != Kind::Credentials) {
      check(step.reply.code == 501 || step.reply.code == 504);
      check(!step.reply.lines.empty() && !step.reply.enhanced.empty());
      check(step.reply.close == (step.kind == Kind::Aborted));
    }
    if (step.kind != Kind::Challenge) {
      // The exchange is over: a further line is a protocol error that ends it.
      *ended_early = i < lines.size();
      if (*ended_early) {
        SaslStep after = x.respond(lines[i]);
        check(after.kind == Kind::Aborted && after.reply.close);
      }
      return step;
    }
    if (i >= lines.size()) {
      SaslStep lost = x.abort();  // the connection dropped while a challenge was outstanding
      check(lost.kind == Kind::Aborted && lost.reply.code == 501);
      return step;
    }
    step = x.respond(lines[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hk::base::base64_encode;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // The PLAIN decoder alone, on the raw input.
  if (std::optional<hk::smtp::PlainCredentials> c = hk::smtp::decode_auth_plain(in)) {
    check(!c->authcid.empty() && !c->password.empty());
    check(c->authzid.empty() || c->authzid == c->authcid);
    check(c->authcid.size() <= 255 && c->password.size() <= 255);
    check(c->authcid.find('\0') == std::string::npos &&
          c->password.find('\0') == std::string::npos);
  }

  // Lines as the session hands them over: split at LF, CR before it removed.
  std::vector<std::string_view> lines;
  while (!in.empty() && lines.size() < 8) {
    size_t lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    in = lf == std::string_view::npos ? std::string_view() : in.substr(lf + 1);
  }
  if (lines.empty()) {
    return 0;
  }
  bool ended_early = false;
  SaslStep step = run(lines, &ended_early);
  if (step.kind != Kind::Credentials) {
    return 0;
  }
  // The same credentials, sent the way a client would, in both mechanisms.
  bool plain_ok = !step.username.empty() && !step.password.empty() && step.username.size() <= 255 &&
                  step.password.size() <= 255 && step.username.find('\0') == std::string::npos &&
                  step.password.find('\0') == std::string::npos;
  if (plain_ok) {
    std::string msg = std::string(1, '\0') + step.username + '\0' + step.password;
    std::string arg = "PLAIN " + base64_encode(msg);
    SaslStep again = run({arg}, &ended_early);
    check(again.kind == Kind::Credentials);
    check(again.username == step.username && again.password == step.password);
  }
  std::string user64 = base64_encode(step.username);
  std::string pass64 = base64_encode(step.password);
  if (!user64.empty() && user64 != "*" && !pass64.empty()) {
    std::string arg = "LOGIN " + user64;
    SaslStep again = run({arg, pass64}, &ended_early);
    check(again.kind == Kind::Credentials);
    check(again.username == step.username && again.password == step.password);
  }
  return 0;
}
