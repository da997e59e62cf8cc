// MtaSts: the sender side of MTA-STS (RFC 8461) — policy discovery through our resolver (§3.1),
// the HTTPS fetch (§3.3), and the policy cache in memory and under data_dir/mta-sts/ (§5.1), so
// that a restart keeps what protects against a downgrade.
// SECURITY: DNS answers and policy servers are untrusted; what they send goes through the pure
// parsers of mta_sts_policy.hpp, and a domain name becomes a file name only after validation.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lib/base/clock.hpp"
#include "lib/mta_sts/mta_sts_policy.hpp"

namespace hk::dns {
class Lookup;
}

namespace hk::delivery {

// Policies by domain: in memory, backed by one file per domain in `dir` (empty: memory only).
// A file is read the first time its domain is asked for; files that do not parse are ignored.
class PolicyCache {
 public:
  explicit PolicyCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::optional<sts::CachedPolicy> get(const std::string& domain);
  // Keeps `c` for `domain`, replacing the file atomically; false (and logged) when the file
  // could not be written (the policy is still kept in memory).
  bool put(const std::string& domain, const sts::CachedPolicy& c);

 private:
  std::filesystem::path dir_;
  std::map<std::string, sts::CachedPolicy> mem_;
};

struct StsOptions {
  std::filesystem::path dir;  // data_dir/mta-sts; empty: nothing persisted
  uint16_t https_port = 443;  // RFC 8461 §3.3: the policy is at https://mta-sts.<domain>/
  std::chrono::seconds fetch_timeout{60};
};

class MtaSts {
 public:
  // `tls` supplies the roots (the system's); `dns` and `clock` must outlive this object.
  MtaSts(boost::asio::any_io_executor ex, dns::Lookup& dns,
         std::shared_ptr<boost::asio::ssl::context> tls, StsOptions opts, const base::Clock& clock);

  // The policy in force for `domain` (lower case), or nullopt when it has none. Never throws for
  // what DNS or the policy server do.
  boost::asio::awaitable<std::optional<sts::CachedPolicy>> policy(std::string domain);

  PolicyCache& cache() { return cache_; }

 private:
  // Fetches and parses https://mta-sts.<domain>/.well-known/mta-sts.txt; nullopt on any failure.
  boost::asio::awaitable<std::optional<sts::Policy>> fetch(const std::string& domain,
                                                           std::string& body);

  boost::asio::any_io_executor ex_;
  dns::Lookup& dns_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  StsOptions opts_;
  const base::Clock& clock_;
  PolicyCache cache_;
  // Domains whose last fetch failed, and when: not fetched again for kFetchRetry, so that a
  // published record with a dead policy host does not cost every delivery attempt a fetch (up to
  // fetch_timeout each). Pruned when it grows large.
  std::map<std::string, sts::TimePoint> failed_;
};

}  // namespace hk::delivery
