// DKIM verification of inbound mail (RFC 6376 §6) with each signer's key fetched through our own
// DNS lookups, a dns::Lookup (libopendkim never queries DNS itself).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dkim/verify.hpp"
#include "lib/dns/lookup.hpp"

namespace hk::dkim {

// The d= and s= tags of one DKIM-Signature header field (RFC 6376 §3.5).
struct SignatureTags {
  std::string domain;    // d=
  std::string selector;  // s=
  bool valid = false;    // both present and made only of letters, digits, '-', '.', '_'
};

// The DKIM-Signature fields of `message` (CRLF or LF), topmost first, with their d= and s=.
std::vector<SignatureTags> find_signatures(std::string_view message);

// The key record among the TXT records at the key name: the first that starts with "v=DKIM1" or
// contains "p=" (RFC 6376 §3.6.2.2); empty when none does.
std::string pick_key_record(const std::vector<std::string>& records);

// One result per DKIM-Signature (at most `max_signatures`, topmost first; the rest are not
// evaluated), or a single "none" result when the message has no signature. Keys are fetched as
// TXT at "<s>._domainkey.<d>" (§3.6.2.1): NXDOMAIN, NODATA or no key record → "permerror"; any
// other DNS failure (SERVFAIL, timeout, ...) → "temperror" (§6.1.2). The keys are fetched first;
// then the signatures are checked (canonicalizing and hashing the whole message, once per
// signature) on `pool` when one is given — a 50 MiB message takes a tenth of a second, which the
// I/O thread must not spend — or on the calling thread otherwise. `message` must stay alive and
// unchanged until the result is back.
boost::asio::awaitable<std::vector<DkimVerifyResult>> verify_message(
    dns::Lookup& dns, const std::string& message, std::size_t max_signatures = 5,
    boost::asio::thread_pool* pool = nullptr);
// The same for a message given in parts (a spooled message); `message` must stay alive until
// the result is back, and its body is read once per signature evaluated.
boost::asio::awaitable<std::vector<DkimVerifyResult>> verify_message(
    dns::Lookup& dns, const MessageSource& message, std::size_t max_signatures = 5,
    boost::asio::thread_pool* pool = nullptr);

}  // namespace hk::dkim
