// Resolver::Options naming one loopback server, for the live Resolver tests.
#pragma once

#include <chrono>
#include <string>

#include "lib/dns/resolver.hpp"

namespace hk::dns::test {

inline Resolver::Options options(const std::string& server,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(2),
                                 int attempts = 1) {
  Resolver::Options o;
  o.servers = {server};
  o.timeout = timeout;
  o.attempts = attempts;
  return o;
}

}  // namespace hk::dns::test
