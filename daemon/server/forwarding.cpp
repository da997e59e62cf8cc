// SRS at RCPT time: bounces to SRS addresses in, SRS senders on forwards out.
#include "daemon/server/forwarding.hpp"

#include <chrono>

#include "domains/domains.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace hk::server {
namespace {

std::string_view domain_part(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

bool ours(const SrsScope& scope, std::string_view domain) {
  std::string d = base::to_lower(domain);
  return scope.doms->is_local(d) || (!scope.cfg->srs.domain.empty() && d == scope.cfg->srs.domain);
}

}  // namespace

SrsRcpt resolve_srs_rcpt(const SrsScope& scope, const smtp::Address& to,
                         const std::string& hostname) {
  SrsRcpt out;
  if (scope.codec == nullptr || !srs::is_srs(to.local) || to.domain.empty() ||
      !ours(scope, to.domain)) {
    return out;
  }
  const int64_t max_age_days =
      std::chrono::duration_cast<std::chrono::hours>(scope.cfg->srs.max_age).count() / 24;
  srs::Result r = scope.codec->reverse(to.local, scope.day, max_age_days);
  if (!r.ok()) {
    out.kind = SrsRcpt::Kind::Refused;
    out.error = r.error;
    return out;
  }
  size_t at = r.address.rfind('@');
  smtp::Address named;
  named.local = r.address.substr(0, at);
  named.domain = base::to_lower(std::string_view(r.address).substr(at + 1));
  out.kind = SrsRcpt::Kind::Accepted;
  out.targets = resolve_rcpt(*scope.doms, named, hostname);
  // The DSN's Original-Recipient is what the client wrote (RFC 3461 §4.2).
  out.targets.original = to.str();
  for (queue::Recipient& rc : out.targets.rcpts) {
    rc.original = out.targets.original;
  }
  return out;
}

size_t rewrite_forwards(const SrsScope& scope, RcptTargets& targets, std::string_view sender) {
  if (scope.codec == nullptr || sender.empty() || ours(scope, domain_part(sender))) {
    return 0;  // the null sender is never rewritten; our own senders pass SPF as they are
  }
  const std::string our_domain = scope.cfg->srs.domain.empty()
                                     ? base::to_lower(domain_part(targets.original))
                                     : scope.cfg->srs.domain;
  size_t failed = 0;
  for (queue::Recipient& rc : targets.rcpts) {
    if (rc.local) {
      continue;
    }
    srs::Result r = scope.codec->forward(sender, our_domain, scope.day);
    if (!r.ok()) {
      ++failed;
      base::log_info() << "srs from=" << base::log_quote(sender)
                       << " rcpt=" << base::log_quote(rc.address) << " result=not-rewritten reason="
                       << base::log_quote(srs::to_string(r.error));
      continue;
    }
    rc.sender = std::move(r.address);
  }
  return failed;
}

}  // namespace hk::server
