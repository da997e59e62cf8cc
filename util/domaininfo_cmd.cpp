// hikyaku-util domaininfo: the per-domain TLS memory (lib/tls_memory, docs/tls-delivery.md) as
// the operator sees it. `show` lists what is remembered; `remove` forgets a domain, so that its
// mail may again go without verified TLS. The daemon reads a domain's file at each delivery, so a
// removal takes effect at the next attempt with no signal to send.
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/date.hpp"
#include "lib/config/config.hpp"
#include "lib/tls_memory/tls_memory.hpp"
#include "util/args.hpp"
#include "util/command.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

// DATA_DIR/domaininfo, DATA_DIR from --data-dir or hikyaku.toml; nullopt after printing why not.
std::optional<fs::path> memory_dir(const Context& ctx, const Args& args) {
  if (auto dir = args.value("data-dir")) {
    return fs::path(*dir) / "domaininfo";
  }
  try {
    return config::load_config(ctx.config_dir).data_dir / "domaininfo";
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return std::nullopt;
  }
}

std::string utc(std::int64_t t) {
  if (t <= 0) {
    return "-";
  }
  return base::rfc3339_utc(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(t)));
}

void print(const tls_memory::Record& r) {
  std::cout << r.domain << " tls=" << r.method << " mx=" << (r.mx.empty() ? "-" : r.mx)
            << " since=" << utc(r.since) << "\n";
}

int domaininfo_show(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"data-dir"});
  if (args.positional().size() > 1) {
    throw UsageError("domaininfo show takes at most one DOMAIN");
  }
  std::optional<fs::path> dir = memory_dir(ctx, args);
  if (!dir) {
    return kExitFailure;
  }
  tls_memory::Store store(*dir);
  if (args.positional().empty()) {
    for (const tls_memory::Record& r : store.list()) {
      print(r);
    }
    return kExitOk;
  }
  std::string domain = parse_domain(args.positional()[0]);
  std::optional<tls_memory::Record> r = store.get(domain);
  if (!r) {
    std::cout << domain << " not remembered: TLS is opportunistic unless DANE or MTA-STS says\n";
    return kExitFailure;
  }
  print(*r);
  return kExitOk;
}

int domaininfo_remove(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"data-dir"});
  args.expect(1, "DOMAIN");
  std::optional<fs::path> dir = memory_dir(ctx, args);
  if (!dir) {
    return kExitFailure;
  }
  std::string domain = parse_domain(args.positional()[0]);
  std::error_code ec = tls_memory::Store(*dir).remove(domain);
  if (ec == std::errc::no_such_file_or_directory) {
    std::cerr << "hikyaku-util: " << domain << " is not remembered\n";
    return kExitFailure;
  }
  if (ec) {
    std::cerr << "hikyaku-util: cannot remove " << domain << " from " << dir->string() << ": "
              << ec.message() << "\n";
    return kExitFailure;
  }
  std::cout << "removed " << domain << "\n";
  return kExitOk;
}

int domaininfo_main(const Context& ctx, const std::vector<std::string>& words) {
  if (words.empty()) {
    throw UsageError("domaininfo needs a subcommand: show or remove");
  }
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if (words[0] == "show") {
    return domaininfo_show(ctx, rest);
  }
  if (words[0] == "remove") {
    return domaininfo_remove(ctx, rest);
  }
  throw UsageError("unknown domaininfo subcommand \"" + words[0] + "\" (show or remove)");
}

constexpr Command kCommands[] = {
    {"domaininfo", "show [DOMAIN] | remove DOMAIN   [--data-dir DIR]",
     "The TLS memory in DATA_DIR/domaininfo: domains whose MX once gave verified TLS (a\n"
     "certificate verified for the MX name, or DANE); mail to them is deferred rather than sent\n"
     "in plaintext or to an unverified certificate.\n"
     "show [DOMAIN]: one line per remembered domain (exit 1 when DOMAIN is not remembered).\n"
     "remove DOMAIN: forget it, e.g. after the domain moved to a server without TLS; the running\n"
     "  daemon reads the memory at each delivery, so the next attempt may use plaintext.",
     domaininfo_main},
};

}  // namespace

std::span<const Command> domaininfo_commands() { return kCommands; }

}  // namespace hk::util
