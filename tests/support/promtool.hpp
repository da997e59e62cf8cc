// `promtool check metrics` (Debian package prometheus) on a rendered metrics page: the
// Prometheus project's own linter for names, types, units and HELP text.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/support/temp_dir.hpp"

namespace hk::test {

inline bool promtool_available() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

struct PromtoolResult {
  bool ok = false;     // exit status 0
  std::string output;  // what it printed (stdout and stderr): empty when it found nothing
};

inline PromtoolResult promtool_check(std::string_view page) {
  TempDir dir;
  std::string path = dir.write("metrics-page.txt", page).string();
  std::string cmd = "promtool check metrics < " + path + " 2>&1";
  PromtoolResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    r.output = "popen failed";
    return r;
  }
  char buf[1024];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) {
    r.output.append(buf, n);
  }
  int status = pclose(f);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return r;
}

}  // namespace hk::test
