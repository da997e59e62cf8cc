// The command table of hikyaku-util. Each command group (users_cmd.cpp, aliases_cmd.cpp, later
// queue, dkim, dns) exports its commands through one function; main.cpp only dispatches.
//
// Exit codes every command keeps, so that shell scripts can rely on them:
//   0 success (or "yes"), 1 failure or "no" (wrong password, unknown address, broken file),
//   2 bad usage (a one-line reason on stderr; throw UsageError).
#pragma once

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hk::util {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Thrown by a command for bad arguments; main prints "hikyaku-util: <what>" and exits 2.
struct UsageError : std::runtime_error {
  using runtime_error::runtime_error;
};

struct Context {
  std::filesystem::path config_dir;  // -C, default /etc/hikyaku
  std::filesystem::path domains_dir() const { return config_dir / "domains"; }
};

// `args` are the words after the command name. Errors other than UsageError may escape as
// exceptions (main prints them and exits 1).
using CommandFn = int (*)(const Context& ctx, const std::vector<std::string>& args);

struct Command {
  std::string_view name;   // "user-add"
  std::string_view usage;  // "USER@DOMAIN [--password=P | --password-stdin] [--force]"
  std::string_view help;   // one or more lines, shown by --help
  CommandFn run;
};

// One function per command group; main.cpp lists them.
std::span<const Command> users_commands();
std::span<const Command> aliases_commands();
std::span<const Command> config_commands();
std::span<const Command> queue_commands();
std::span<const Command> relay_commands();
std::span<const Command> dkim_commands();
std::span<const Command> dns_commands();
std::span<const Command> srs_commands();
std::span<const Command> domaininfo_commands();
std::span<const Command> import_commands();
std::span<const Command> status_commands();
std::span<const Command> console_commands();

}  // namespace hk::util
