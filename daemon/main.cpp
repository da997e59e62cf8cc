// hikyaku: the mail server daemon. Parses the command line, loads the configuration and runs the
// Server; all logic lives in the libraries.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "daemon/server/privileges.hpp"
#include "daemon/server/server.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace {

constexpr const char* kUsage =
    "usage: hikyaku [-C CONFIG_DIR] [--check-config] [--help] [--version]\n"
    "\n"
    "Runs the hikyaku mail server with CONFIG_DIR/hikyaku.toml (default /etc/hikyaku).\n"
    "  -C, --config-dir DIR  configuration directory\n"
    "  --check-config        load the configuration, report errors, and exit\n"
    "  --help                this text\n"
    "  --version             print the version\n"
    "Signals: SIGTERM/SIGINT stop after draining (within [limits] shutdown_grace); SIGHUP\n"
    "re-reads hikyaku.toml, certificates, users, aliases and DKIM keys.\n"
    "Exit codes: 0 stopped cleanly, 1 could not start, 2 bad usage or configuration.\n";

int usage_error(const std::string& why) {
  fprintf(stderr, "hikyaku: %s (see hikyaku --help)\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_dir = "/etc/hikyaku";
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version") {
      printf("hikyaku %s\n", HK_VERSION);
      return 0;
    }
    if (a == "-C" || a == "--config-dir") {
      if (i + 1 >= argc) {
        return usage_error(a + " needs a directory");
      }
      config_dir = argv[++i];
    } else if (a.rfind("--config-dir=", 0) == 0) {
      config_dir = a.substr(strlen("--config-dir="));
    } else if (a == "--check-config") {
      check_only = true;
    } else {
      return usage_error("unknown argument " + a);
    }
  }
  // Under systemd, journald stamps each line itself.
  hk::base::set_log_timestamps(getenv("JOURNAL_STREAM") == nullptr);

  hk::config::Config cfg;
  try {
    cfg = hk::config::load_config(config_dir);
  } catch (const hk::config::ConfigError& e) {
    fprintf(stderr, "hikyaku: %s\n", e.what());
    return 2;
  }
  if (check_only) {
    if (!cfg.run_as.empty()) {
      try {
        hk::server::lookup_user(cfg.run_as);
      } catch (const std::exception& e) {
        fprintf(stderr, "hikyaku: %s: %s\n", cfg.file.c_str(), e.what());
        return 2;
      }
    }
    printf("%s: ok\n", cfg.file.c_str());
    return 0;
  }
  hk::base::set_log_level(cfg.log_level);
  try {
    hk::server::Server server(std::move(cfg));
    server.run();
  } catch (const std::exception& e) {
    fprintf(stderr, "hikyaku: cannot start: %s\n", e.what());
    return 1;
  }
  return 0;
}
