// hikyaku: the mail server daemon. Parses the command line, loads the configuration and runs the
// Server; all logic lives in the libraries.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>

#include "daemon/server/dev_setup.hpp"
#include "daemon/server/privileges.hpp"
#include "daemon/server/server.hpp"
#include "lib/base/log.hpp"
#include "lib/config/config.hpp"

namespace {

constexpr const char* kUsage =
    "usage: hikyaku [-C CONFIG_DIR | --dev [DIR]] [--check-config] [--help] [--version]\n"
    "\n"
    "Runs the hikyaku mail server with CONFIG_DIR/hikyaku.toml (default /etc/hikyaku).\n"
    "  -C, --config-dir DIR  configuration directory\n"
    "  --dev [DIR]           a mail catcher for development: writes DIR/hikyaku.toml when it\n"
    "                        is missing (capture mode, SMTP on 127.0.0.1:1025, console on\n"
    "                        http://127.0.0.1:8025/, data in DIR; no root needed) and runs with\n"
    "                        it in the foreground; DIR defaults to\n"
    "                        ~/.local/share/hikyaku-dev (docs/capture.md)\n"
    "  --check-config        load the configuration, report errors, and exit (with --dev:\n"
    "                        write the configuration first, to edit before starting)\n"
    "  --help                this text\n"
    "  --version             print the version\n"
    "Signals: SIGTERM/SIGINT stop after draining (within [limits] shutdown_grace); SIGHUP\n"
    "re-reads hikyaku.toml, certificates, users, aliases and DKIM keys.\n"
    "Exit codes: 0 stopped cleanly, 1 could not start, 2 bad usage or configuration.\n";

int usage_error(const std::string& why) {
  fprintf(stderr, "hikyaku: %s (see hikyaku --help)\n", why.c_str());
  return 2;
}

// --dev: the folder, made ready; its path is the configuration directory. Says what it did.
bool prepare_dev(const std::string& dir_arg, std::string& config_dir) {
  try {
    const std::filesystem::path dir =
        dir_arg.empty() ? hk::server::default_dev_dir() : std::filesystem::path(dir_arg);
    hk::server::DevSetup dev = hk::server::prepare_dev_dir(dir);
    config_dir = dev.dir.string();
    fprintf(stderr, "hikyaku --dev: %s %s\n", dev.created ? "wrote" : "using", dev.config.c_str());
    return true;
  } catch (const std::exception& e) {
    fprintf(stderr, "hikyaku --dev: %s\n", e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_dir = "/etc/hikyaku";
  bool check_only = false;
  bool dev = false, config_given = false;
  std::string dev_dir;
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
      config_given = true;
    } else if (a.rfind("--config-dir=", 0) == 0) {
      config_dir = a.substr(strlen("--config-dir="));
      config_given = true;
    } else if (a == "--dev") {
      dev = true;
      // The folder is optional: the next argument is it unless it is an option.
      if (i + 1 < argc && argv[i + 1][0] != '-') {
        dev_dir = argv[++i];
      }
    } else if (a.rfind("--dev=", 0) == 0) {
      dev = true;
      dev_dir = a.substr(strlen("--dev="));
    } else if (a == "--check-config") {
      check_only = true;
    } else {
      return usage_error("unknown argument " + a);
    }
  }
  if (dev && config_given) {
    return usage_error("--dev and -C both name the configuration directory; give one");
  }
  if (dev && !prepare_dev(dev_dir, config_dir)) {
    return 1;
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
