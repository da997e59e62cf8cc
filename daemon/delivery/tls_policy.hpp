// TlsPolicy: how TLS is decided for one MX host (docs/tls-delivery.md) — DANE (RFC 7672) over an
// enforced MTA-STS policy (RFC 8461) over the per-domain TLS memory over opportunistic STARTTLS
// (RFC 3207) — and what a delivery over verified TLS leaves in the TLS memory.
// SECURITY: TLSA records are trusted only with the AD bit of the configured resolver, and only
// for an MX host whose MX and address answers were validated too (RFC 7672 §2.2).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "lib/dns/answer.hpp"
#include "lib/queue/delivery_result.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "lib/tls_memory/tls_memory.hpp"

namespace hk::dns {
class Lookup;
}

namespace hk::delivery {

// RFC 7672 §3.1.3 and RFC 7671: usable for SMTP are DANE-TA(2) and DANE-EE(3) records with
// selector 0 (certificate) or 1 (SubjectPublicKeyInfo) and matching type 0 (exact), 1 (SHA-256,
// 32 octets) or 2 (SHA-512, 64 octets); PKIX-TA(0) and PKIX-EE(1) are not.
bool usable_tlsa(const dns::TlsaRecord& r);

enum class DaneStatus {
  None,      // no DANE: zone insecure, no TLSA records, or DANE off
  Usable,    // validated TLSA records, some usable: the certificate must match them
  Unusable,  // validated TLSA records, none usable: TLS is still mandatory (RFC 7672 §2.2)
  Failed,    // the TLSA lookup failed (bogus, SERVFAIL, timeout): not this host (RFC 7672 §2.2)
};

struct DaneResult {
  DaneStatus status = DaneStatus::None;
  std::vector<dns::TlsaRecord> records;  // Usable: the usable ones
  std::string detail;                    // why, for the log
};

// The DANE status of one TLSA answer (for a host whose addresses were validated).
DaneResult dane_from_answer(const dns::Answer<dns::TlsaRecord>& tlsa, const std::string& base);

// Validated addresses, then the TLSA records of `_25._tcp.<host>` (RFC 7672 §2.2.2-§2.2.3). The
// caller has checked that the MX answer was validated.
boost::asio::awaitable<DaneResult> lookup_dane(dns::Lookup& dns, std::string host);

struct TlsInputs {
  bool dane = false;         // [delivery] dane
  bool mx_secure = false;    // the MX answer (or its NODATA) carried the AD bit
  bool sts_enforce = false;  // an MTA-STS policy in mode enforce names this host
  std::optional<tls_memory::Record> memory;
};

struct TlsPlan {
  TlsMode mode = TlsMode::Opportunistic;
  std::vector<dns::TlsaRecord> tlsa;  // mode Dane
  // What decided: "dane", "dane-unusable", "mta-sts", "tls-memory", "opportunistic".
  std::string reason = "opportunistic";
  // Set when this host must not be tried now (its TLSA lookup failed): the result to keep.
  std::optional<queue::DeliveryResult> skip;
  // TLS is required by DANE or the TLS memory (MTA-STS has its own message): a failure is
  // reported as 4.7.5 with this text.
  std::string required_by;
};

boost::asio::awaitable<TlsPlan> plan_tls(dns::Lookup& dns, std::string host, TlsInputs in);

// After a delivery over verified TLS (is_verified(tls)): records the domain in `store` if it is
// not yet there, and logs it. `now` in seconds since the epoch.
void remember_tls(const tls_memory::Store& store, const std::string& domain,
                  const std::string& host, TlsResult tls, std::time_t now);

}  // namespace hk::delivery
