// The TLS decision for one MX host, and the TLS memory's update after a verified delivery.
#include "daemon/delivery/tls_policy.hpp"

#include <algorithm>

#include "lib/base/log.hpp"
#include "lib/dns/error.hpp"
#include "lib/dns/lookup.hpp"

namespace hk::delivery {

namespace asio = boost::asio;
using Status = queue::DeliveryResult::Status;

namespace {

// RFC 6698 §7.2-§7.4 as RFC 7672 §3.1 and RFC 7671 §5 narrow them for SMTP.
constexpr std::uint8_t kDaneTa = 2;
constexpr std::uint8_t kDaneEe = 3;
constexpr std::uint8_t kSelectorSpki = 1;
constexpr std::uint8_t kMatchSha256 = 1;
constexpr std::uint8_t kMatchSha512 = 2;

std::string without_dot(std::string host) {
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  return host;
}

}  // namespace

bool usable_tlsa(const dns::TlsaRecord& r) {
  if (r.usage != kDaneTa && r.usage != kDaneEe) {
    return false;  // RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are not for SMTP
  }
  if (r.selector > kSelectorSpki) {
    return false;
  }
  switch (r.matching_type) {
    case 0:
      return !r.data.empty();
    case kMatchSha256:
      return r.data.size() == 32;
    case kMatchSha512:
      return r.data.size() == 64;
    default:
      return false;
  }
}

DaneResult dane_from_answer(const dns::Answer<dns::TlsaRecord>& tlsa, const std::string& base) {
  DaneResult out;
  if (tlsa.ec == dns::Error::NxDomain || tlsa.ec == dns::Error::NoData) {
    out.detail = "no TLSA records at " + base;
    return out;  // RFC 7672 §2.2: no DANE for this host
  }
  if (tlsa.ec) {
    // Bogus (a validating resolver's SERVFAIL) or indeterminate: RFC 7672 §2.2 forbids delivery
    // to this host, with or without TLS.
    out.status = DaneStatus::Failed;
    out.detail = "TLSA lookup of " + base + " failed: " + tlsa.ec.message();
    return out;
  }
  if (!tlsa.authenticated) {
    out.detail = "TLSA records of " + base + " not validated (insecure zone)";
    return out;
  }
  std::copy_if(tlsa.records.begin(), tlsa.records.end(), std::back_inserter(out.records),
               usable_tlsa);
  out.status = out.records.empty() ? DaneStatus::Unusable : DaneStatus::Usable;
  out.detail = std::to_string(out.records.size()) + " of " + std::to_string(tlsa.records.size()) +
               " TLSA records of " + base + " usable";
  return out;
}

asio::awaitable<DaneResult> lookup_dane(dns::Lookup& dns, std::string host) {
  const std::string name = without_dot(host);
  // RFC 7672 §2.2.2: TLSA records are looked up only for a host whose address records are
  // secure. Every address answer that has records must be validated (the same lookups the
  // delivery made a moment ago, answered from the cache).
  dns::Answer<asio::ip::address> v6 = co_await dns.aaaa(name);
  dns::Answer<asio::ip::address> v4 = co_await dns.a(name);
  bool any = false;
  bool secure = true;
  for (const auto* a : {&v6, &v4}) {
    if (!a->records.empty()) {
      any = true;
      secure = secure && a->authenticated;
    }
  }
  if (!any || !secure) {
    co_return DaneResult{DaneStatus::None, {}, "addresses of " + name + " not validated"};
  }
  const std::string base = "_25._tcp." + name;  // RFC 7672 §2.2.3
  dns::Answer<dns::TlsaRecord> tlsa = co_await dns.tlsa(base);
  co_return dane_from_answer(tlsa, base);
}

asio::awaitable<TlsPlan> plan_tls(dns::Lookup& dns, std::string host, TlsInputs in) {
  TlsPlan plan;
  DaneResult dane;
  if (in.dane && in.mx_secure) {
    dane = co_await lookup_dane(dns, host);
  } else if (in.dane) {
    dane.detail = "MX answer not validated";
  }
  if (dane.status == DaneStatus::Failed) {
    plan.reason = "dane";
    plan.required_by = "DANE";
    plan.skip = queue::DeliveryResult{Status::Transient, 451, "4.7.5", "DANE: " + dane.detail};
    co_return plan;
  }
  if (dane.status == DaneStatus::Usable) {
    plan.mode = TlsMode::Dane;
    plan.tlsa = std::move(dane.records);
    plan.reason = "dane";
    plan.required_by = "DANE (" + dane.detail + ")";
    co_return plan;
  }
  if (in.sts_enforce) {
    plan.mode = TlsMode::Required;
    plan.reason = "mta-sts";
    co_return plan;
  }
  if (in.memory) {
    // The domain gave verified TLS before: nothing less now (chasquid's domaininfo).
    plan.mode = TlsMode::Required;
    plan.reason = "tls-memory";
    plan.required_by = "the TLS memory (verified TLS seen" +
                       (in.memory->mx.empty() ? std::string() : " at " + in.memory->mx) +
                       "; `hikyaku-util domaininfo remove " + in.memory->domain + "` forgets it)";
    co_return plan;
  }
  if (dane.status == DaneStatus::Unusable) {
    plan.mode = TlsMode::Encrypt;
    plan.reason = "dane-unusable";
    plan.required_by = "DANE (" + dane.detail + ")";
    co_return plan;
  }
  co_return plan;
}

void remember_tls(const tls_memory::Store& store, const std::string& domain,
                  const std::string& host, TlsResult tls, std::time_t now) {
  if (store.dir().empty() || !is_verified(tls) || store.get(domain)) {
    return;
  }
  tls_memory::Record r{tls_memory::normalize(domain), without_dot(host),
                       tls == TlsResult::Dane ? "dane" : "verified", now};
  if (r.domain.empty()) {
    return;
  }
  std::error_code ec = store.put(r);
  if (ec) {
    base::log_warn() << "domain=" << r.domain
                     << " tls_memory=not-recorded error=" << base::log_quote(ec.message());
    return;
  }
  base::log_info() << "domain=" << r.domain << " tls_memory=recorded mx=" << r.mx
                   << " tls=" << r.method;
}

}  // namespace hk::delivery
