// Test DNS servers on loopback: dnsmasq with the zone the live tests query (or records of the
// test's own), the fake_dns.py responder for answers dnsmasq cannot give, and a UDP socket that
// never answers. Each server is killed when its object goes away; none outlives the test binary.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tests/support/child.hpp"

namespace hk::dns::test {

// dnsmasq on 127.0.0.1 and a free port, answering only from its own records and refusing names
// outside its --local domains, having no upstream.
class Dnsmasq {
 public:
  // The zone of the live DNS tests, under "test" and 127.in-addr.arpa. Fails the test
  // (ADD_FAILURE) and leaves port() 0 if dnsmasq cannot start.
  Dnsmasq();
  // Only `records` (dnsmasq options such as "--txt-record=NAME,TEXT") under "test".
  explicit Dnsmasq(const std::vector<std::string>& records);
  unsigned short port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::optional<hk::test::Child> child_;
  unsigned short port_ = 0;
};

// tests/support/fake_dns.py on 127.0.0.1 and the port it picked.
class FakeDns {
 public:
  FakeDns();
  unsigned short port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::optional<hk::test::Child> child_;
  unsigned short port_ = 0;
};

// A UDP socket bound on 127.0.0.1 that never reads: queries sent to it time out (a closed port
// would answer with ICMP port unreachable instead).
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

}  // namespace hk::dns::test
