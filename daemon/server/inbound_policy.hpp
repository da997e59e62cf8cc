// Inbound policy: what a client is offered and what it goes through, from where it connected
// (port, TLS, trusted network) and who it is (authenticated or not) — AUTH, relaying, the EHLO
// keywords, and the sender-authentication checks of its mail: SPF at MAIL FROM (RFC 7208) and
// DKIM verification at the end of DATA (RFC 6376), decided separately so that either can change
// without dragging the other along. Pure functions, so that one table tests every combination.
// SECURITY: relay control and where AUTH may run in plaintext are decided here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/server/session.hpp"

namespace hk::server {

// Where a client stands; the session fills it in from its state before each decision.
struct ClientStanding {
  Port port = Port::Smtp;
  bool tls = false;
  bool trusted = false;        // its address is in trusted_networks
  bool loopback = false;       // it connected from a loopback address
  bool authenticated = false;  // AUTH succeeded
};

// AUTH belongs on the submission ports (RFC 6409 §4.3) and under TLS (RFC 4954 §4: no plaintext
// passwords); in plaintext only for trusted loopback clients, when the administrator allows it.
bool auth_offered(const ClientStanding& c, bool allow_plain_auth_from_trusted);
// The submission ports take mail only from authenticated or trusted clients (RFC 6409 §4.3).
bool auth_required(const ClientStanding& c);
// Mail for other domains is accepted only from authenticated or trusted clients: never an open
// relay (RFC 5321 §3.6.2).
bool may_relay(const ClientStanding& c);

// The keywords of the EHLO reply after its first line (RFC 5321 §4.1.1.1), in the order sent.
std::vector<std::string> ehlo_keywords(const ClientStanding& c, uint64_t max_message_size,
                                       bool have_certificate, bool allow_plain_auth_from_trusted);

// RFC 7208 §2.4 asks for the check at MAIL FROM of mail arriving from the Internet: strangers on
// port 25. Authenticated and trusted clients are our own users, whose mail we sign and do not
// judge. `have_dns` says whether the daemon can look up SPF records at all.
bool should_check_spf(const ClientStanding& c, bool have_dns);

// RFC 6376 §6: the DKIM signatures of incoming mail are verified (and recorded in
// Authentication-Results, RFC 8601) for the same strangers; never a reason to refuse the mail.
// `have_dns` says whether the daemon can look up DKIM keys.
bool should_verify_dkim(const ClientStanding& c, bool have_dns);

}  // namespace hk::server
