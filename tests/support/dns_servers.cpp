// Starting and stopping the loopback DNS servers of the live tests.
#include "tests/support/dns_servers.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tests/support/ports.hpp"

namespace hk::dns::test {

namespace {

using namespace std::chrono_literals;

// dnsmasq answering only from `records` (--no-resolv, --local), with TTL 300 (--local-ttl).
std::vector<std::string> dnsmasq_args(unsigned short port,
                                      const std::vector<std::string>& records) {
  std::vector<std::string> args = {
      "/usr/sbin/dnsmasq",
      "--keep-in-foreground",  // not --no-daemon, which also copies the log to stderr
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--pid-file",
      "--log-facility=/dev/null",
      "--port=" + std::to_string(port),
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--local=/test/",
      "--local-ttl=300",
  };
  args.insert(args.end(), records.begin(), records.end());
  return args;
}

// The zone of the live tests.
std::vector<std::string> live_zone() {
  std::string long_txt;
  for (char c = 'a'; c < 'a' + 8; ++c) {
    long_txt += ',' + std::string(250, c);  // 8 strings of 250 octets: over 1232, so over TCP
  }
  return {
      "--local=/127.in-addr.arpa/",
      "--mx-host=example.test,mx1.example.test,10",
      "--mx-host=example.test,mx2.example.test,20",
      "--mx-host=example.test,mx3.example.test,20",
      "--host-record=mx1.example.test,127.0.0.10,fd00::10",
      "--host-record=mx2.example.test,127.0.0.20",
      "--host-record=multi.example.test,127.0.0.11",
      "--host-record=multi.example.test,127.0.0.12",
      "--cname=alias.example.test,mx1.example.test",
      "--txt-record=example.test,v=spf1 -all",
      "--txt-record=split.example.test,part one ,part two",
      "--txt-record=two.example.test,first",
      "--txt-record=two.example.test,second",
      "--txt-record=long.example.test" + long_txt,
      "--ptr-record=21.0.0.127.in-addr.arpa,ptr.example.test",
      "--ptr-record=22.0.0.127.in-addr.arpa,one.example.test",
      "--ptr-record=22.0.0.127.in-addr.arpa,two.example.test",
      "--mx-host=nullmx.example.test,.,0",
      // TLSA (RFC 6698 §2.1) for SMTP on mx1 (RFC 7672 §2.2): DANE-EE SPKI SHA-256, and DANE-TA
      // whole-certificate SHA-512.
      "--dns-rr=_25._tcp.mx1.example.test,52,030101" + std::string(64, 'a'),
      "--dns-rr=_25._tcp.mx1.example.test,52,020002" + std::string(128, 'b'),
  };
}

}  // namespace

Dnsmasq::Dnsmasq() : Dnsmasq(live_zone()) {}

Dnsmasq::Dnsmasq(const std::vector<std::string>& records) {
  // Another process may take the port between free_port() and dnsmasq's bind: then retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned short port = hk::test::free_port();
    child_.emplace(dnsmasq_args(port, records), false);
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < deadline && child_->running();) {
      if (hk::test::tcp_accepts(port)) {
        port_ = port;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    child_.reset();
  }
  ADD_FAILURE() << "dnsmasq did not start";
}

FakeDns::FakeDns() {
  child_.emplace(std::vector<std::string>{"/usr/bin/python3", HK_FAKE_DNS, "--lifetime", "60"},
                 true);
  auto line = child_->read_line(5s);
  if (!line || line->rfind("PORT ", 0) != 0) {
    ADD_FAILURE() << "fake_dns.py did not start";
    child_.reset();
    return;
  }
  port_ = static_cast<unsigned short>(std::stoi(line->substr(5)));
}

SilentServer::SilentServer() {
  fd_ = hk::test::bind_loopback(SOCK_DGRAM, 0);
  if (fd_ < 0) {
    throw std::runtime_error(std::string("bind failed: ") + std::strerror(errno));
  }
  port_ = hk::test::local_port(fd_);
}

SilentServer::~SilentServer() { ::close(fd_); }

}  // namespace hk::dns::test
