// Starting and stopping the loopback DNS servers of the live tests.
#include "test_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace hk::dns::test {

namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(unsigned short port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

int bound_socket(int type, unsigned short port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in sa = loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

unsigned short port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

bool tcp_accepts(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// The zone of the live tests. dnsmasq answers only from these records (--no-resolv, --local),
// with TTL 300 (--local-ttl); it refuses names outside the --local domains, having no upstream.
std::vector<std::string> dnsmasq_args(unsigned short port) {
  std::string long_txt;
  for (char c = 'a'; c < 'a' + 8; ++c) {
    long_txt += ',' + std::string(250, c);  // 8 strings of 250 octets: over 1232, so over TCP
  }
  return {
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
      "--local=/127.in-addr.arpa/",
      "--local-ttl=300",
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

Child::Child(const std::vector<std::string>& argv, bool capture_stdout) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  int pipe_fds[2] = {-1, -1};
  if (capture_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    if (capture_stdout) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also here, so that the group exists before the child runs
  if (capture_stdout) {
    ::close(pipe_fds[1]);
    out_ = pipe_fds[0];
  }
}

Child::~Child() {
  if (out_ >= 0) {
    ::close(out_);
  }
  if (pid_ <= 0) {
    return;
  }
  // The whole group: dnsmasq forks a helper per TCP connection. A reaped pid is never signalled
  // again (it may belong to a stranger by now); its group id stays reserved while the group has
  // members, so signalling the group stays safe.
  if (!reaped_) {
    signal_group(SIGTERM);
    for (int i = 0; i < 200 && running(); ++i) {  // up to 2 s, then SIGKILL
      std::this_thread::sleep_for(10ms);
    }
  }
  if (!reaped_) {
    signal_group(SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::kill(-pid_, SIGKILL);  // helpers still running, if any
}

// Before the child's setpgid the group may not exist yet: then the child alone.
void Child::signal_group(int sig) {
  if (::kill(-pid_, sig) != 0) {
    ::kill(pid_, sig);
  }
}

bool Child::running() {
  if (!reaped_ && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    reaped_ = true;
  }
  return !reaped_;
}

std::optional<std::string> Child::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      return std::nullopt;
    }
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char buf[256];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) {
      return std::nullopt;
    }
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

unsigned short free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int udp = bound_socket(SOCK_DGRAM, 0);
    if (udp < 0) {
      continue;
    }
    unsigned short port = port_of(udp);
    int tcp = bound_socket(SOCK_STREAM, port);
    ::close(udp);
    if (tcp >= 0) {
      ::close(tcp);
      return port;
    }
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

Dnsmasq::Dnsmasq() {
  // Another process may take the port between free_port() and dnsmasq's bind: then retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned short port = free_port();
    child_.emplace(dnsmasq_args(port), false);
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < deadline && child_->running();) {
      if (tcp_accepts(port)) {
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
  child_.emplace(std::vector<std::string>{"/usr/bin/python3", HK_DNS_TEST_DIR "/fake_dns.py",
                                          "--lifetime", "60"},
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
  fd_ = bound_socket(SOCK_DGRAM, 0);
  if (fd_ < 0) {
    throw std::runtime_error(std::string("bind failed: ") + std::strerror(errno));
  }
  port_ = port_of(fd_);
}

SilentServer::~SilentServer() { ::close(fd_); }

}  // namespace hk::dns::test
