// Child processes of the tests: a server kept running for the test's length (Child), and a
// command run to its end (run_command). Neither takes a shell.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hk::test {

// A child process in its own process group, stopped with SIGTERM (then SIGKILL) on destruction;
// it never outlives the test binary (PR_SET_PDEATHSIG).
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

// Runs argv[0] (an absolute path) to its end, its stdin read from `input` (empty: the test's
// own stdin), its stdout discarded and its stderr left to the test's log. Returns the exit
// status, or -1 if it could not start or was killed by a signal.
int run_command(const std::vector<std::string>& argv, const std::filesystem::path& input = {});

}  // namespace hk::test
