// Bounces: when recipients of a queued message fail for good, one delivery status notification
// (RFC 3464) goes back to the envelope sender — never for a null sender, so bounces cannot loop.
// The delay warning (Action: delayed) takes the same way back. Both are DKIM-signed when a local
// domain they may speak for has a key (dsn_identity()).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <ctime>
#include <string>
#include <vector>

#include "lib/dkim/keyring.hpp"
#include "lib/metrics/registry.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::dkim {
class DkimSigner;
}
namespace hk::domains {
class Domains;
class DomainsWatcher;
}  // namespace hk::domains
namespace hk::queue {
class QueueStore;
class Queue;
}  // namespace hk::queue

namespace hk::server {

struct BounceDeps {
  queue::QueueStore* store = nullptr;
  queue::Queue* queue = nullptr;
  domains::DomainsWatcher* domains = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  std::string hostname;
  // DKIM signing of the DSNs; both null: unsigned.
  const dkim::DkimKeyring* dkim_keys = nullptr;
  const dkim::DkimSigner* dkim_signer = nullptr;
  // hikyaku_dsn_sent_total of this kind, counted once the DSN is queued; null: not counted.
  metrics::Counter* sent = nullptr;
};

// Who a DSN comes from: its From: address and the domain whose keys sign it (empty: no key,
// unsigned). Receivers such as Gmail want DSNs authenticated like any other mail, and a
// DMARC-aligned signature needs a key of the From: domain or of a parent of it (relaxed
// alignment, RFC 7489 §3.1.1). The first of these that has a key wins:
//   1. the domain of a reported recipient (as given in RCPT TO) when it is ours: mail to our
//      domain that could not be forwarded comes back from that domain;
//   2. the original sender's domain when it is ours;
//   3. the hostname, or its nearest parent domain that is ours ("mx.example.org" is signed with
//      example.org's key and stays relaxed-aligned).
// With no key anywhere, the DSN comes from postmaster@<hostname>, unsigned, as before.
struct DsnIdentity {
  std::string postmaster;   // "postmaster@<domain>"
  std::string sign_domain;  // key domain in `keys`; empty: no signature
};
DsnIdentity dsn_identity(const std::string& hostname, const queue::Envelope& env,
                         const std::vector<queue::Recipient>& reported,
                         const domains::Domains& doms, const dkim::Keys& keys);

// The DKIM-Signature headers for `message` made with every key of `domain` (CPU work: run it on
// the pool), or "" with `errors` filled.
std::string sign_dsn(const dkim::DkimSigner& signer, const dkim::Keys& keys,
                     const std::string& domain, const std::string& message,
                     std::vector<std::string>& errors);

// Builds the DSN for `failed` (copies) and the queued bytes `original` (a copy: the original may
// already be gone from the store), and queues it. Logs and gives up on errors: the failure
// itself is already recorded in the original message's state.
boost::asio::awaitable<void> send_bounce(BounceDeps deps, queue::Envelope env,
                                         std::vector<queue::Recipient> failed,
                                         std::string original);

// Builds the delay warning for `pending` (copies), the recipients still being retried until
// `retry_until`, and queues it. Logs and gives up on errors: the original message stays queued,
// and its state already says that the warning was sent, so it is not tried again.
boost::asio::awaitable<void> send_delay_warning(BounceDeps deps, queue::Envelope env,
                                                std::vector<queue::Recipient> pending,
                                                std::time_t retry_until, std::string original);

}  // namespace hk::server
