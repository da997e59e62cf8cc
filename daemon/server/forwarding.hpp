// SRS at RCPT time (docs/srs.md): a recipient that is an SRS address of ours is checked and
// stands for the address it names (a bounce routed back), and the remote recipients that a local
// address forwards to get an SRS sender when the envelope sender is not one of our domains.
// SECURITY: an SRS address makes us relay on port 25 to the address it names; only one whose hash
// and age check out (lib/srs) does, anything else that looks like one is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/server/recipients.hpp"
#include "lib/srs/srs.hpp"

namespace hk::config {
struct Config;
}

namespace hk::server {

// What SRS needs of the session's world; `codec` null = SRS off ([srs] enabled = false).
struct SrsScope {
  const srs::Codec* codec = nullptr;
  const config::Config* cfg = nullptr;
  const domains::Domains* doms = nullptr;
  int64_t day = 0;  // srs::day_of(now)
};

struct SrsRcpt {
  enum class Kind {
    NotSrs,    // not an SRS address of ours: resolve it as usual
    Refused,   // SRS-shaped at one of our domains but forged, expired or malformed: 550
    Accepted,  // `targets` (resolve_rcpt of the address it names, `original` the SRS address)
  };
  Kind kind = Kind::NotSrs;
  srs::Error error = srs::Error::None;
  RcptTargets targets;
};

// `to` is an SRS address of ours when its local part starts SRS0=/SRS1= (any case, any separator)
// and its domain is local or [srs] domain.
SrsRcpt resolve_srs_rcpt(const SrsScope& scope, const smtp::Address& to,
                         const std::string& hostname);

// Sets Recipient::sender on the remote recipients of `targets` (the forwards of a local address,
// or the address an SRS address names) when `sender` is neither null nor at one of our domains
// (local domains, [srs] domain). The SRS domain is [srs] domain, else the domain of
// `targets.original`. Returns how many recipients could not be rewritten (a quoted or too long
// sender: logged; they leave with the sender as it came).
size_t rewrite_forwards(const SrsScope& scope, RcptTargets& targets, std::string_view sender);

}  // namespace hk::server
