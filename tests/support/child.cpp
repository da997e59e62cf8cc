// Starting, reading and stopping the tests' child processes.
#include "tests/support/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

extern char** environ;

namespace hk::test {
namespace {

using namespace std::chrono_literals;

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  return args;
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, bool capture_stdout) {
  std::vector<char*> args = c_argv(argv);
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

int run_command(const std::vector<std::string>& argv, const std::filesystem::path& input) {
  std::vector<char*> args = c_argv(argv);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!input.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, input.c_str(), O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return -1;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace hk::test
