// RCPT TO resolution against the local domains.
#include "daemon/server/recipients.hpp"

#include <utility>

#include "domains/domains.hpp"

namespace hk::server {

RcptTargets resolve_rcpt(const domains::Domains& doms, smtp::Address to,
                         const std::string& hostname) {
  if (to.domain.empty()) {
    // RFC 5321 §4.5.1: <postmaster> without a domain must be accepted.
    to.domain = doms.is_local(hostname) ? hostname : "";
    if (to.domain.empty()) {
      auto names = doms.domain_names();
      if (!names.empty()) {
        to.domain = names.front();
      }
    }
  }
  RcptTargets out;
  out.original = to.str();
  if (to.domain.empty() || !doms.is_local(to.domain)) {
    out.kind = RcptTargets::Kind::Remote;
    queue::Recipient rc;
    rc.address = out.original;
    rc.original = out.original;
    rc.local = false;
    out.rcpts.push_back(std::move(rc));
    return out;
  }
  domains::Resolution res = doms.resolve(to.local, to.domain);
  if (!res.error.empty()) {
    out.kind = RcptTargets::Kind::AliasError;
    out.error = std::move(res.error);
    return out;
  }
  out.kind = res.targets.empty() ? RcptTargets::Kind::NoSuchUser : RcptTargets::Kind::Local;
  for (const auto& t : res.targets) {
    queue::Recipient rc;
    rc.address = t.address;
    rc.original = out.original;
    rc.local = t.kind == domains::Resolution::Kind::LocalUser;
    out.rcpts.push_back(std::move(rc));
  }
  return out;
}

std::vector<queue::Recipient> resolve_release_rcpt(const domains::Domains& doms,
                                                   const std::string& hostname,
                                                   const std::string& address, std::string& error) {
  std::vector<queue::Recipient> out;
  smtp::PathResult path = smtp::parse_path("<" + address + ">", smtp::PathKind::Forward);
  if (!path.ok || path.value.literal || path.value.domain.empty()) {
    error = "not a valid address: " + address;
    return out;
  }
  RcptTargets targets = resolve_rcpt(doms, path.value, hostname);
  if (targets.kind == RcptTargets::Kind::NoSuchUser) {
    error = "no such user here: " + address;
  } else if (targets.kind == RcptTargets::Kind::AliasError) {
    error = targets.error;
  } else {
    out = std::move(targets.rcpts);
  }
  return out;
}

void add_rcpts(std::vector<queue::Recipient>& rcpts, RcptTargets targets) {
  for (auto& t : targets.rcpts) {
    bool dup = false;
    if (targets.kind == RcptTargets::Kind::Local) {
      for (const auto& r : rcpts) {
        dup = dup || r.address == t.address;
      }
    }
    if (!dup) {
      rcpts.push_back(std::move(t));
    }
  }
}

}  // namespace hk::server
