// hikyaku-util: the administrator's command line. This file only parses the global options and
// dispatches to the command groups listed in kGroups; each group lives in its own *_cmd.cpp.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "util/command.hpp"

namespace {

using hk::util::Command;

// To add a command group: write foo_cmd.cpp exporting `std::span<const Command> foo_commands()`,
// declare it in command.hpp, list it here and add the file to CMakeLists.txt.
constexpr std::span<const Command> (*kGroups[])() = {
    hk::util::users_commands,  hk::util::aliases_commands, hk::util::config_commands,
    hk::util::queue_commands,  hk::util::relay_commands,   hk::util::dkim_commands,
    hk::util::dns_commands,    hk::util::srs_commands,     hk::util::domaininfo_commands,
    hk::util::import_commands, hk::util::status_commands,  hk::util::console_commands,
};

constexpr const char* kDefaultConfigDir = "/etc/hikyaku";

const Command* find_command(std::string_view name) {
  for (auto group : kGroups) {
    for (const Command& c : group()) {
      if (c.name == name) {
        return &c;
      }
    }
  }
  return nullptr;
}

void print_indented(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::cout << "      " << text.substr(0, nl) << "\n";
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

void print_help() {
  std::cout << "usage: hikyaku-util [-C CONFIG_DIR] COMMAND [ARGS...]\n"
               "       hikyaku-util COMMAND --help\n"
               "\n"
               "Options:\n"
               "  -C CONFIG_DIR   configuration folder (default "
            << kDefaultConfigDir
            << ")\n"
               "  --help          this text\n"
               "  --version       print the version\n"
               "\n"
               "Commands:\n";
  for (auto group : kGroups) {
    for (const Command& c : group()) {
      std::cout << "  " << c.name << " " << c.usage << "\n";
      print_indented(c.help);
    }
  }
  std::cout << "\n"
               "Exit status: 0 success, 1 failure or negative answer, 2 bad usage.\n";
}

int usage_error(std::string_view msg) {
  std::cerr << "hikyaku-util: " << msg << " (try --help)\n";
  return hk::util::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  hk::util::Context ctx{kDefaultConfigDir};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      return hk::util::kExitOk;
    }
    if (arg == "--version") {
      std::cout << "hikyaku-util " << HK_VERSION << "\n";
      return hk::util::kExitOk;
    }
    if (arg == "-C") {
      if (i + 1 >= argc) {
        return usage_error("-C needs a folder");
      }
      ctx.config_dir = argv[++i];
    } else if (arg.starts_with("-C")) {
      ctx.config_dir = std::string(arg.substr(2));
    } else {
      return usage_error("unknown option " + std::string(arg));
    }
  }
  if (i >= argc) {
    return usage_error("no command given");
  }
  const Command* command = find_command(argv[i]);
  if (command == nullptr) {
    return usage_error("unknown command " + std::string(argv[i]));
  }
  std::vector<std::string> args(argv + i + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: hikyaku-util [-C CONFIG_DIR] " << command->name << " " << command->usage
              << "\n\n"
              << command->help << "\n";
    return hk::util::kExitOk;
  }
  try {
    return command->run(ctx, args);
  } catch (const hk::util::UsageError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return hk::util::kExitFailure;
  }
}
