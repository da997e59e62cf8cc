// hikyaku-util console-password: sets the operator password for remote access to the web
// console ([console] password_file), as an scrypt hash (domains/password.hpp).
// SECURITY: the password comes from the terminal (asked twice, no echo), from standard input, or
// from --password=P (for scripts on a single-user machine only: other users see it in ps). Only
// its hash is written, mode 0640: readable by the daemon's group (run_as), nobody else.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "domains/password.hpp"
#include "lib/base/files.hpp"
#include "lib/config/config.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/terminal.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

// The file named by [console] password_file; CONFIG_DIR/console.password when it names none.
fs::path target_file(const Context& ctx, const Args& args, config::Config* cfg, bool& named) {
  named = true;
  if (auto file = args.value("file")) {
    return fs::absolute(*file);
  }
  if (cfg != nullptr && !cfg->console.password_file.empty()) {
    return cfg->console.password_file;  // made absolute by the config parser
  }
  named = false;
  return ctx.config_dir / "console.password";
}

std::string read_password(const Args& args) {
  std::string password;
  auto given = args.value("password");
  if (given && args.has("password-stdin")) {
    throw UsageError("give either --password or --password-stdin, not both");
  }
  if (given) {
    password = *given;
  } else if (stdin_is_terminal() && !args.has("password-stdin")) {
    auto first = read_secret("Console password (user admin): ");
    if (!first) {
      throw UsageError("no password typed");
    }
    auto again = read_secret("Repeat the password: ");
    if (!again || *again != *first) {
      throw std::runtime_error("the passwords do not match; nothing changed");
    }
    password = std::move(*first);
  } else {
    auto line = read_stdin_line();
    if (!line) {
      throw UsageError("no password on standard input");
    }
    password = std::move(*line);
  }
  if (password.empty()) {
    throw UsageError("empty password refused");
  }
  return password;
}

// Started as root with run_as set: the daemon reads the file through its group after it drops
// root, so the file is root:<run_as's group>.
void give_to_daemon_group(const fs::path& file, const config::Config* cfg) {
  if (::geteuid() != 0 || cfg == nullptr || cfg->run_as.empty()) {
    return;
  }
  const struct passwd* pw = ::getpwnam(cfg->run_as.c_str());
  if (pw == nullptr) {
    std::cerr << "hikyaku-util: warning: run_as user \"" << cfg->run_as
              << "\" not found; the file stays root's\n";
    return;
  }
  if (::chown(file.c_str(), 0, pw->pw_gid) != 0) {
    throw std::runtime_error("cannot give " + file.string() + " to the group of " + cfg->run_as);
  }
}

int console_password(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"password-stdin"}, {"password", "file"});
  args.expect(0, "");
  std::optional<config::Config> cfg;
  try {
    cfg = config::load_config(ctx.config_dir);
  } catch (const std::exception& e) {
    if (!args.value("file")) {
      throw;  // the file's place comes from the configuration
    }
  }
  bool named = false;
  fs::path file = target_file(ctx, args, cfg ? &*cfg : nullptr, named);
  std::string hash = domains::hash_password(read_password(args));
  if (std::error_code ec = base::write_file_atomic(file, hash + "\n", 0640)) {
    throw std::runtime_error("cannot write " + file.string() + ": " + ec.message());
  }
  give_to_daemon_group(file, cfg ? &*cfg : nullptr);
  std::cout << "console password written to " << file.string() << "\n";
  if (!named) {
    std::cout << "add to hikyaku.toml:\n  [console]\n  password_file = \"console.password\"\n";
  }
  std::cout << "the daemon reads it at the next request (user: admin)\n";
  return kExitOk;
}

constexpr Command kCommands[] = {
    {"console-password", "[--password=P | --password-stdin] [--file=PATH]",
     "Set the web console's operator password (user admin) for clients that are not on\n"
     "loopback: its scrypt hash is written to [console] password_file (default\n"
     "CONFIG_DIR/console.password, or --file=PATH), mode 0640. The password is asked twice on\n"
     "the terminal, else (or with --password-stdin) read from standard input, or given as\n"
     "--password=P.",
     console_password},
};

}  // namespace

std::span<const Command> console_commands() { return kCommands; }

}  // namespace hk::util
