// What one RCPT TO address stands for: the mailboxes and forwards of one of our domains (aliases
// resolved, a bare <postmaster> included, RFC 5321 §4.5.1), or a remote address that only relaying
// can reach; and how those recipients join a transaction's list.
// SECURITY: whether a remote address may be relayed to is the session's decision, not made here.
#pragma once

#include <string>
#include <vector>

#include "lib/queue/envelope.hpp"
#include "lib/smtp/address.hpp"

namespace hk::domains {
class Domains;
}

namespace hk::server {

struct RcptTargets {
  enum class Kind {
    Local,       // `rcpts`: the mailboxes and forwards of a local address
    Remote,      // `rcpts`: the address itself, for relaying
    NoSuchUser,  // a local domain without this address (RFC 5321 §3.6.2: 550)
    AliasError,  // the aliases loop or fan out too far: `error` says which
  };
  Kind kind = Kind::NoSuchUser;
  std::string original;  // the address as the client gave it, domain filled in for <postmaster>
  std::vector<queue::Recipient> rcpts;
  std::string error;
};

// `to` as RCPT TO parsed it; never an address literal (the session refuses those first).
// `hostname` is ours: a bare <postmaster> belongs to it when it is a local domain, else to the
// first local domain.
RcptTargets resolve_rcpt(const domains::Domains& doms, smtp::Address to,
                         const std::string& hostname);

// What a release of captured mail to `address` ("local@domain", as given to the API) stands for
// in the queue (capture::CaptureStore::RecipientResolver): resolved as RCPT TO would be, local
// mailboxes marked local; empty with `error` set for a bad address, a local address nobody has,
// or an alias error.
std::vector<queue::Recipient> resolve_release_rcpt(const domains::Domains& doms,
                                                   const std::string& hostname,
                                                   const std::string& address, std::string& error);

// Adds `targets` to the transaction's recipients: a local mailbox at most once per transaction,
// a remote address as often as it was given.
void add_rcpts(std::vector<queue::Recipient>& rcpts, RcptTargets targets);

}  // namespace hk::server
