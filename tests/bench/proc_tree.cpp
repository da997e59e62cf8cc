// proc_tree: CPU time and memory of a server's whole process tree, read from /proc (proc(5)).
#include "proc_tree.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace hk::bench {
namespace {

struct ProcStat {
  int ppid = 0;
  long long ticks = 0;  // utime + stime + cutime + cstime, in clock ticks
};

std::optional<ProcStat> read_stat(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) {
    return std::nullopt;  // the process has gone since /proc was listed
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) {
    return std::nullopt;
  }
  std::istringstream in(line.substr(close + 2));
  std::string state;
  long long v[14] = {};  // fields 4 (ppid) to 17 (cstime)
  in >> state;
  for (auto& x : v) {
    in >> x;
  }
  if (!in) {
    return std::nullopt;
  }
  return ProcStat{static_cast<int>(v[0]), v[10] + v[11] + v[12] + v[13]};
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; });
}

// Every live process that descends from one of `roots`, roots included.
std::map<int, ProcStat> process_tree(const std::vector<int>& roots) {
  namespace fs = std::filesystem;
  std::map<int, ProcStat> all;
  std::multimap<int, int> children;  // ppid -> pid
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!all_digits(name)) {
      continue;
    }
    const int pid = std::stoi(name);
    if (auto st = read_stat(pid)) {
      all.emplace(pid, *st);
      children.emplace(st->ppid, pid);
    }
  }
  std::map<int, ProcStat> tree;
  std::vector<int> todo;
  for (int r : roots) {
    if (all.count(r) != 0) {
      todo.push_back(r);
    }
  }
  while (!todo.empty()) {  // bounded: each pid enters `tree` once
    const int pid = todo.back();
    todo.pop_back();
    if (!tree.emplace(pid, all[pid]).second) {
      continue;
    }
    auto [first, last] = children.equal_range(pid);
    for (auto it = first; it != last; ++it) {
      todo.push_back(it->second);
    }
  }
  return tree;
}

double tick_ms() { return 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK)); }

}  // namespace

double tree_cpu_ms(const std::vector<int>& roots) {
  long long ticks = 0;
  for (const auto& [pid, st] : process_tree(roots)) {
    ticks += st.ticks;
  }
  return static_cast<double>(ticks) * tick_ms();
}

double settled_cpu_ms(const std::vector<int>& roots, std::chrono::seconds max) {
  double prev = tree_cpu_ms(roots);
  const auto deadline = std::chrono::steady_clock::now() + max;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const double cur = tree_cpu_ms(roots);
    if (cur - prev <= tick_ms()) {
      return cur;
    }
    prev = cur;
  }
  return prev;
}

Memory tree_memory(const std::vector<int>& roots) {
  Memory m;
  for (const auto& [pid, st] : process_tree(roots)) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string key;
    std::string unit;
    long long kib = 0;
    std::getline(f, key);  // the "[rollup]" mapping line
    for (int lines = 0; lines < 64 && f >> key >> kib >> unit; ++lines) {
      if (key == "Pss:") {
        m.pss_kib += kib;
      } else if (key == "Rss:") {
        m.rss_kib += kib;
      }
    }
    ++m.processes;
  }
  return m;
}

double self_cpu_ms() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1000.0 + static_cast<double>(tv.tv_usec) / 1000.0;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

}  // namespace hk::bench
