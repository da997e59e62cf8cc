// Capture mode's rules for one recipient (docs/capture.md): whether [capture] deliver lets it
// take the normal path, and which failure a captured recipient's address asks for (fail-550,
// defer-451, slow-Ns, at RCPT or, as a +tag, at the final dot). Pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "lib/smtp/reply.hpp"

namespace hk::server {

// True when `address` ("local@domain", any case) matches one of the [capture] deliver patterns
// ("*@domain", "*@*.domain", "user@domain"; lower case, checked by the config parser).
bool deliver_allowed(const std::vector<std::string>& patterns, std::string_view address);

// The longest delay slow-Ns asks for; a larger N waits this long. It stays below the RFC 5321
// §4.5.3.2 client timeouts (5 minutes for RCPT, 10 for the final dot), so a client that follows
// them sees the delay and not a timeout of its own.
inline constexpr std::chrono::seconds kMaxInjectedDelay{300};

// What a captured recipient's address asks of the server.
struct Injection {
  enum class Outcome { None, Fail550, Defer451 };
  Outcome outcome = Outcome::None;
  std::chrono::seconds delay{0};  // slow-Ns: the reply waits this long
  bool at_dot = false;            // a +tag (bob+fail-550@x): at the final dot, not at RCPT
  std::string name;               // "fail-550", "defer-451", "slow-2s"; "" = none

  bool any() const { return outcome != Outcome::None || delay.count() > 0; }
};

// The injection `address` names: its local part is fail-550, defer-451 or slow-Ns (N from 1;
// case-insensitive), or ends with one as a +tag (the part after the last '+').
Injection find_injection(std::string_view address);

// What the final dot of a message to the captured `addresses` gets from their +tags: the longest
// delay, and a failure (550 before 451) when any asks for one.
Injection injection_at_dot(const std::vector<std::string>& addresses);

// The reply an injected failure gets: 550 5.1.1 (RFC 3463 §3.2: bad destination mailbox) or
// 451 4.3.0 (§3.4: other mail system status, temporary), saying that it was injected. Only for
// an injection whose outcome is not None.
smtp::Reply injected_reply(const Injection& injection);

}  // namespace hk::server
