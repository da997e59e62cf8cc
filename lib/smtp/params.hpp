// The arguments of MAIL FROM and RCPT TO: a path followed by ESMTP parameters
// (RFC 5321 §4.1.2 Mail-parameters / Rcpt-parameters), checked against the extensions that
// define them: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), AUTH (RFC 4954 §5),
// RET/ENVID/NOTIFY/ORCPT (DSN, RFC 3461 §4), REQUIRETLS (RFC 8689 §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/smtp/address.hpp"
#include "lib/smtp/parsed.hpp"

namespace hk::smtp {

// The extensions the server advertised in its EHLO reply. A parameter of an extension that was
// not offered is "not recognized" and refused with 555 5.5.4 (RFC 5321 §4.1.1.11). Set each
// field to what the session really offered (e.g. auth only after STARTTLS).
struct Extensions {
  bool size = true;
  bool eightbitmime = true;
  bool smtputf8 = true;
  bool auth = true;
  bool dsn = true;
  // RFC 8689 §2: offered only on a TLS session. Off by default: a caller that offers it says so.
  bool requiretls = false;
};

struct MailFrom {
  enum class Body { SevenBit, EightBitMime };

  Address from;
  std::optional<uint64_t> size;  // SIZE=; saturates at UINT64_MAX for 20-digit overflows
  Body body = Body::SevenBit;    // BODY=; BINARYMIME is refused (no CHUNKING/BINARYMIME here)
  bool smtputf8 = false;         // SMTPUTF8 (RFC 6531 §3.4)
  // AUTH= decoded from xtext (RFC 4954 §5): "<>" for AUTH=<>, "" when absent. Only a hint: the
  // server trusts it only from an authenticated, trusted client.
  std::string auth;
  std::string ret;          // DSN RET=: "FULL" or "HDRS" (upper case), "" when absent
  std::string envid;        // DSN ENVID=: still xtext-encoded, as it must be relayed
  bool requiretls = false;  // REQUIRETLS (RFC 8689 §4.1): deliver only over verified TLS
};

struct RcptTo {
  Address to;
  std::string notify;  // DSN NOTIFY=: "NEVER" or a list of SUCCESS,FAILURE,DELAY (upper case)
  std::string orcpt;   // DSN ORCPT=: "addr-type;xtext" as received, for relaying
};

using MailResult = Parsed<MailFrom>;
using RcptResult = Parsed<RcptTo>;

// `arg` is Command::arg of MAIL (what follows "FROM:"). Errors: path syntax 501 5.1.7, unknown
// or unsupported parameter 555 5.5.4, malformed parameter 501 5.5.4, non-ASCII address without
// the SMTPUTF8 parameter 553 5.6.7 (RFC 6531 §3.5).
MailResult parse_mail_from(std::string_view arg, const Extensions& ext = {});

// `arg` is Command::arg of RCPT. `smtputf8` says whether this transaction's MAIL FROM carried
// SMTPUTF8; without it a non-ASCII recipient is refused with 553 5.6.7 (RFC 6531 §3.5).
RcptResult parse_rcpt_to(std::string_view arg, bool smtputf8 = false, const Extensions& ext = {});

}  // namespace hk::smtp
