// hikyaku-util commands about the configuration file: print-config and check-config.
#include <iostream>

#include "lib/config/config.hpp"
#include "util/args.hpp"
#include "util/command.hpp"

namespace hk::util {
namespace {

int print_config(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(0, "no arguments");
  try {
    std::cout << config::to_toml(config::load_config(ctx.config_dir));
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int check_config(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  args.expect(0, "no arguments");
  try {
    config::Config cfg = config::load_config(ctx.config_dir);
    std::cout << cfg.file.string() << ": ok\n";
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

constexpr Command kCommands[] = {
    {"print-config", "",
     "Print the effective configuration (every key, defaults filled in, passwords as ***).",
     print_config},
    {"check-config", "", "Load hikyaku.toml as the daemon would; exit 1 naming file:line:key.",
     check_config},
};

}  // namespace

std::span<const Command> config_commands() { return kCommands; }

}  // namespace hk::util
