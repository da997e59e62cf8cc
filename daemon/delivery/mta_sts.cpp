// MtaSts: discovery, fetch and cache of MTA-STS policies (RFC 8461 §3, §5.1).
#include "daemon/delivery/mta_sts.hpp"

#include <system_error>
#include <utility>

#include "lib/base/files.hpp"
#include "lib/base/log.hpp"
#include "lib/dns/lookup.hpp"
#include "lib/http/https_get.hpp"

namespace hk::delivery {

namespace asio = boost::asio;

namespace {
constexpr std::chrono::minutes kFetchRetry{5};
// §5.1: a cached policy is refreshed well before it expires, so that a domain mailed rarely, or a
// TXT lookup an attacker blocks later, does not let the policy lapse; a failed refresh keeps it.
constexpr std::chrono::hours kRefreshAfter{24};
constexpr size_t kMaxFailed = 4096;
}  // namespace

std::optional<sts::CachedPolicy> PolicyCache::get(const std::string& domain) {
  if (auto it = mem_.find(domain); it != mem_.end()) {
    return it->second;
  }
  if (dir_.empty() || !sts::valid_policy_domain(domain)) {
    return std::nullopt;
  }
  std::string text;
  if (base::read_file(dir_ / domain, text)) {
    return std::nullopt;  // nothing stored (or unreadable): as if never fetched
  }
  std::optional<sts::CachedPolicy> c = sts::deserialize(text);
  if (!c) {
    base::log_warn() << "mta-sts domain=" << domain << " result=ignored-cache-file file="
                     << base::log_quote((dir_ / domain).string());
    return std::nullopt;
  }
  mem_[domain] = *c;
  return c;
}

bool PolicyCache::put(const std::string& domain, const sts::CachedPolicy& c) {
  mem_[domain] = c;
  if (dir_.empty() || !sts::valid_policy_domain(domain)) {
    return true;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (!ec) {
    ec = base::write_file_atomic(dir_ / domain, sts::serialize(c), 0600);
  }
  if (ec) {
    base::log_error() << "mta-sts domain=" << domain
                      << " result=cache-write-failed error=" << base::log_quote(ec.message());
    return false;
  }
  return true;
}

MtaSts::MtaSts(asio::any_io_executor ex, dns::Lookup& dns, std::shared_ptr<asio::ssl::context> tls,
               StsOptions opts, const base::Clock& clock)
    : ex_(std::move(ex)),
      dns_(dns),
      tls_(std::move(tls)),
      opts_(std::move(opts)),
      clock_(clock),
      cache_(opts_.dir) {}

asio::awaitable<std::optional<sts::CachedPolicy>> MtaSts::policy(std::string domain) {
  if (!sts::valid_policy_domain(domain)) {
    co_return std::nullopt;  // an address literal or a malformed name has no policy
  }
  std::optional<sts::CachedPolicy> cached = cache_.get(domain);
  // §3.1: discovery through DNS; a failed lookup is the same as no record, which leaves an
  // unexpired cached policy in force (§5.1).
  auto txt = co_await dns_.txt("_mta-sts." + domain);
  std::optional<std::string> id = txt.ec ? std::nullopt : sts::txt_id(txt.records);
  const sts::TimePoint now = clock_.now();
  switch (sts::decide(cached, id, now)) {
    case sts::Action::NoPolicy:
      co_return std::nullopt;
    case sts::Action::UseCached:
      if (!id || now - cached->fetched < kRefreshAfter) {
        co_return cached;
      }
      break;  // same id, but a day old: fetched again (below), the cached one kept on failure
    case sts::Action::Fetch:
      break;
  }
  auto failed = failed_.find(domain);
  bool fetch_now = failed == failed_.end() || now - failed->second >= kFetchRetry;
  std::string body;
  std::optional<sts::Policy> fetched;
  if (fetch_now) {
    fetched = co_await fetch(domain, body);
  }
  if (!fetched) {
    if (fetch_now) {
      if (failed_.size() >= kMaxFailed) {
        std::erase_if(failed_, [&](const auto& kv) { return now - kv.second >= kFetchRetry; });
      }
      failed_[domain] = now;
    }
    // §3.3: no policy fetched, so an unexpired cached one (of an older id) still applies.
    if (cached && cached->valid_at(now)) {
      co_return cached;
    }
    co_return std::nullopt;
  }
  failed_.erase(domain);
  sts::CachedPolicy c{std::move(*fetched), *id, std::move(body), now};
  cache_.put(domain, c);
  base::log_info() << "mta-sts domain=" << domain
                   << " result=fetched mode=" << sts::to_string(c.policy.mode) << " sts_id=" << c.id
                   << " max_age=" << c.policy.max_age;
  co_return c;
}

asio::awaitable<std::optional<sts::Policy>> MtaSts::fetch(const std::string& domain,
                                                          std::string& body) {
  const std::string host = "mta-sts." + domain;
  std::vector<asio::ip::address> addrs;
  auto v4 = co_await dns_.a(host);
  addrs.insert(addrs.end(), v4.records.begin(), v4.records.end());
  auto v6 = co_await dns_.aaaa(host);
  addrs.insert(addrs.end(), v6.records.begin(), v6.records.end());
  if (addrs.empty()) {
    base::log_info() << "mta-sts domain=" << domain
                     << " result=fetch-failed error=" << base::log_quote("no address for " + host);
    co_return std::nullopt;
  }
  HttpsRequest req;
  req.host = host;
  req.path = "/.well-known/mta-sts.txt";  // §3.3
  req.port = opts_.https_port;
  req.timeout = opts_.fetch_timeout;
  HttpsResult r = co_await https_get(ex_, *tls_, std::move(addrs), std::move(req));
  if (!r.ok) {
    base::log_info() << "mta-sts domain=" << domain
                     << " result=fetch-failed error=" << base::log_quote(r.error);
    co_return std::nullopt;
  }
  std::optional<sts::Policy> p = sts::parse_policy(r.body);
  if (!p) {
    base::log_info() << "mta-sts domain=" << domain << " result=invalid-policy";
    co_return std::nullopt;
  }
  body = std::move(r.body);
  co_return p;
}

}  // namespace hk::delivery
