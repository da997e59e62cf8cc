// proc_tree: CPU time and memory of a server's whole process tree, read from /proc, for hk-bench.
// A forking server (Postfix) is many processes that come and go; the tree under the given roots
// is walked afresh at every reading.
#pragma once

#include <chrono>
#include <vector>

namespace hk::bench {

// CPU time (user + system) of every live process descending from `roots` (roots included), plus
// what they reaped from exited children, in ms. An exited child's whole life is then in its
// parent's cutime/cstime, so the difference of two readings counts every process once.
double tree_cpu_ms(const std::vector<int>& roots);

// Reads tree_cpu_ms until it stops growing (less than one clock tick per 300 ms), for at most
// `max`, and returns the last reading: deliveries running after the last reply count too.
double settled_cpu_ms(const std::vector<int>& roots, std::chrono::seconds max);

struct Memory {
  long long pss_kib = 0;  // proportional set size: shared pages split among their users
  long long rss_kib = 0;  // resident set size: shared pages counted in every process
  int processes = 0;
};

// Sums /proc/PID/smaps_rollup over the tree.
Memory tree_memory(const std::vector<int>& roots);

// This process's own CPU time (user + system), in ms.
double self_cpu_ms();

}  // namespace hk::bench
