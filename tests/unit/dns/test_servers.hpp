// Test DNS servers on loopback: dnsmasq with the zone the live tests query, the fake_dns.py
// responder for answers dnsmasq cannot give, and a UDP socket that never answers. Each server is
// killed when its object goes away; none outlives the test binary (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hk::dns::test {

// A child process in its own process group, stopped with SIGTERM (then SIGKILL) on destruction.
class Child {
 public:
  // Starts argv[0] (an absolute path); with `capture_stdout` its stdout is readable by read_line.
  Child(const std::vector<std::string>& argv, bool capture_stdout);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // One line of the child's stdout, without the newline; nullopt on timeout or end of file.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it once it has).
  bool running();

 private:
  void signal_group(int sig);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_ = -1;
  std::string buffered_;
};

// dnsmasq serving the "test" zone on 127.0.0.1 and a free port.
class Dnsmasq {
 public:
  Dnsmasq();  // fails the test (ADD_FAILURE) and leaves port() 0 if it cannot start
  unsigned short port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::optional<Child> child_;
  unsigned short port_ = 0;
};

// tests/unit/dns/fake_dns.py on 127.0.0.1 and the port it picked.
class FakeDns {
 public:
  FakeDns();
  unsigned short port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::optional<Child> child_;
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

// A port on 127.0.0.1 free for both UDP and TCP at the time of the call.
unsigned short free_port();

}  // namespace hk::dns::test
