// The resolver every hikyaku-util command that looks something up uses: the configured [dns]
// servers, timeout and tries, as the daemon's (empty servers: /etc/resolv.conf).
#pragma once

#include "lib/config/config.hpp"
#include "lib/dns/resolver.hpp"

namespace hk::util {

inline dns::Resolver::Options resolver_options(const config::Config& cfg) {
  dns::Resolver::Options opts;
  for (const config::Endpoint& e : cfg.dns.servers) {
    opts.servers.push_back(e.str());
  }
  opts.timeout = cfg.dns.timeout;
  opts.attempts = cfg.dns.attempts;
  return opts;
}

}  // namespace hk::util
