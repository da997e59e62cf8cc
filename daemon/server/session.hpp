// An SMTP server session (RFC 5321, with RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 6409 submission):
// one coroutine per client connection, from greeting to QUIT.
//
// SECURITY: this is where remote input enters. Relay control (never an open relay), sender
// authorization, AUTH and the DATA smuggling defence live here; nothing a client sends may abort
// the process, and every limit that bounds memory or time is enforced before the work it bounds.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "daemon/server/transport.hpp"

namespace hk::config {
struct Config;
}
namespace hk::domains {
class AuthCache;
class DomainsWatcher;
}  // namespace hk::domains
namespace hk::certs {
class CertStore;
}
namespace hk::queue {
class QueueStore;
class Queue;
}  // namespace hk::queue

namespace hk::dns {
class Lookup;
}
namespace hk::dkim {
class DkimKeyring;
class DkimSigner;
}  // namespace hk::dkim
namespace hk::srs {
class SecretFile;
}
namespace hk::dmarc {
class PublicSuffixList;
}
namespace hk::capture {
class CaptureStore;
}

namespace hk::server {

struct ServerMetrics;
struct ConnectionCounts;
class AbuseGuard;
class Drain;

// Which listener accepted the connection; it decides what the session offers and requires.
enum class Port {
  Smtp,           // 25: mail for local domains from anyone; relay only for trusted/authenticated
  Submission,     // 587: STARTTLS then AUTH required (RFC 6409)
  SubmissionTls,  // 465: TLS from the first byte (RFC 8314), AUTH required
};
inline const char* port_name(Port p) {
  switch (p) {
    case Port::Smtp:
      return "smtp";
    case Port::Submission:
      return "submission";
    case Port::SubmissionTls:
      return "submission_tls";
  }
  return "?";
}

// What a session needs from the daemon; all owned by the Server and outliving every session.
struct Deps {
  // The configuration the session runs with: serve() sets it to the one in force when the session
  // starts (from live_cfg), and the session keeps it to its end, whatever a reload does meanwhile.
  const config::Config* cfg = nullptr;
  // The daemon's configuration in force, replaced by a reload (SIGHUP); null in tests that give
  // cfg only.
  const std::shared_ptr<const config::Config>* live_cfg = nullptr;
  Drain* drain = nullptr;  // the daemon's stop (SIGTERM); null in tests
  domains::DomainsWatcher* domains = nullptr;
  certs::CertStore* certs = nullptr;
  queue::QueueStore* store = nullptr;
  queue::Queue* queue = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  const ServerMetrics* metrics = nullptr;
  dns::Lookup* dns = nullptr;  // SPF and DKIM-key lookups for unauthenticated mail on port 25
  const dkim::DkimKeyring* dkim_keys = nullptr;  // signing keys of the local domains
  const dkim::DkimSigner* dkim_signer = nullptr;
  // The SRS secrets (docs/srs.md); none = no SRS, whatever [srs] enabled says (tests).
  const srs::SecretFile* srs = nullptr;
  // The Public Suffix List for DMARC's Organizational Domains; none = no DMARC checks.
  const dmarc::PublicSuffixList* psl = nullptr;
  // Failed logins, bans and rates across connections; none = no such limits (tests).
  AbuseGuard* abuse = nullptr;
  // Recent successful logins (domains/auth_cache.hpp); none = every AUTH runs scrypt.
  domains::AuthCache* auth_cache = nullptr;
  // The live connections, for stress mode (session_timer.cpp); none = never stressed.
  const ConnectionCounts* counts = nullptr;
  // Captured mail ([capture] enabled, docs/capture.md); none = capture mode is off.
  capture::CaptureStore* capture = nullptr;
};

// The configuration in force now: live_cfg's when there is one, else cfg.
inline const config::Config& current_config(const Deps& deps) {
  return deps.live_cfg != nullptr ? **deps.live_cfg : *deps.cfg;
}

// A place in the connection limits, given back when the session ends (see Listener). `per_ip` is
// null for a client that the per-address limit does not count (trusted networks).
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(size_t* total, size_t* per_ip) : total_(total), per_ip_(per_ip) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept : total_(o.total_), per_ip_(o.per_ip_) {
    o.total_ = nullptr;
    o.per_ip_ = nullptr;
  }
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() { release(); }
  void release() {
    release_per_ip();
    if (total_ != nullptr) {
      --*total_;
      total_ = nullptr;
    }
  }
  // An authenticated session no longer counts towards its address's limit (many users may share
  // one address behind NAT); it still counts towards max_connections.
  void release_per_ip() {
    if (per_ip_ != nullptr) {
      --*per_ip_;
      per_ip_ = nullptr;
    }
  }

 private:
  size_t* total_ = nullptr;
  size_t* per_ip_ = nullptr;
};

// Runs one session over `transport` (the daemon's Connection; an in-memory stream in tests) to its
// end, then gives back `slot`. Nothing the client does makes it throw; what escapes is a bug, and
// the caller logs it.
boost::asio::awaitable<void> serve(std::unique_ptr<Transport> transport, Deps deps, Port port,
                                   ConnectionSlot slot = {});

}  // namespace hk::server
