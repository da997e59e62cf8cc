// hikyaku-util srs: decode an SRS address as the daemon would check a bounce to it, or make one
// (docs/srs.md). Reads the secrets in DATA_DIR/srs.key; never prints them, never creates the file.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "lib/base/files.hpp"
#include "lib/base/private_file.hpp"
#include "lib/config/config.hpp"
#include "lib/srs/secret_file.hpp"
#include "lib/srs/srs.hpp"
#include "util/args.hpp"
#include "util/command.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

// "YYYY-MM-DD" (UTC) as a day number; today without --at.
int64_t day_arg(const Args& args) {
  std::optional<std::string> at = args.value("at");
  if (!at) {
    return srs::day_of(std::chrono::system_clock::now());
  }
  unsigned y = 0, m = 0, d = 0;
  char tail = 0;
  if (at->size() != 10 || std::sscanf(at->c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    throw UsageError("--at wants a date as YYYY-MM-DD, got \"" + *at + "\"");
  }
  std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(y)), std::chrono::month(m),
                                  std::chrono::day(d)};
  if (!ymd.ok()) {
    throw UsageError("--at: no such date \"" + *at + "\"");
  }
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

struct Loaded {
  config::Config cfg;
  std::optional<srs::Codec> codec;
};

// The configuration (for data_dir and max_age) and the codec; errors go to stderr.
Loaded load(const Context& ctx, const Args& args) {
  Loaded out;
  std::optional<std::string> dir = args.value("data-dir");
  try {
    out.cfg = config::load_config(ctx.config_dir);
  } catch (const config::ConfigError& e) {
    if (!dir) {
      std::cerr << "hikyaku-util: " << e.what() << "\n";
      return out;
    }
  }
  if (dir) {
    out.cfg.data_dir = *dir;
  }
  fs::path key = out.cfg.data_dir / "srs.key";
  std::string text;
  if (std::error_code ec = base::read_file(key, text)) {
    std::cerr << "hikyaku-util: cannot read " << key.string() << ": " << ec.message()
              << " (hikyaku makes it at its first start)\n";
    return out;
  }
  if (std::string problem = base::private_file_problem(key); !problem.empty()) {
    std::cerr << "hikyaku-util: " << problem << "\n";
    return out;
  }
  try {
    out.codec.emplace(srs::parse_secrets(text, key.string()));
  } catch (const std::exception& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
  }
  return out;
}

int srs_decode(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"at", "data-dir"});
  args.expect(1, "ADDRESS");
  const std::string& address = args.positional()[0];
  int64_t day = day_arg(args);
  Loaded l = load(ctx, args);
  if (!l.codec) {
    return kExitFailure;
  }
  std::string local = address.substr(0, address.rfind('@'));
  const int64_t max_age =
      std::chrono::duration_cast<std::chrono::hours>(l.cfg.srs.max_age).count() / 24;
  srs::Result r = l.codec->reverse(local, day, max_age);
  if (!r.ok()) {
    std::cerr << "hikyaku-util: " << address << ": " << srs::to_string(r.error)
              << (r.error == srs::Error::Expired
                      ? " (older than max_age, " + std::to_string(max_age) + " days)"
                      : std::string())
              << "\n";
    return kExitFailure;
  }
  std::cout << r.address << "\n";
  return kExitOk;
}

int srs_encode(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"at", "data-dir", "domain"});
  args.expect(1, "SENDER");
  int64_t day = day_arg(args);
  std::optional<std::string> domain = args.value("domain");
  Loaded l = load(ctx, args);
  if (!l.codec) {
    return kExitFailure;
  }
  std::string ours = domain ? parse_domain(*domain) : l.cfg.srs.domain;
  if (ours.empty()) {
    throw UsageError("srs encode needs --domain (no [srs] domain in hikyaku.toml)");
  }
  srs::Result r = l.codec->forward(args.positional()[0], ours, day);
  if (!r.ok()) {
    std::cerr << "hikyaku-util: " << args.positional()[0] << ": " << srs::to_string(r.error)
              << "\n";
    return kExitFailure;
  }
  std::cout << r.address << "\n";
  return kExitOk;
}

int srs_main(const Context& ctx, const std::vector<std::string>& words) {
  if (words.empty()) {
    throw UsageError("srs needs a subcommand: decode or encode");
  }
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if (words[0] == "decode") {
    return srs_decode(ctx, rest);
  }
  if (words[0] == "encode") {
    return srs_encode(ctx, rest);
  }
  throw UsageError("unknown srs subcommand \"" + words[0] + "\" (decode or encode)");
}

constexpr Command kCommands[] = {
    {"srs", "decode ADDRESS | encode SENDER [--domain DOMAIN]   [--at YYYY-MM-DD] [--data-dir DIR]",
     "SRS addresses (docs/srs.md), with the secrets in DATA_DIR/srs.key.\n"
     "decode: check ADDRESS (SRS0=…@… or SRS1=…@…) as hikyaku checks a bounce to it (hash, and\n"
     "  [srs] max_age for SRS0) and print the address it names; exit 1 saying why it is refused\n"
     "  (bad hash, expired, malformed).\n"
     "encode: print the SRS address hikyaku would send SENDER's forwarded mail as, at DOMAIN\n"
     "  (default [srs] domain).\n"
     "--at: as on that day (UTC) instead of today.",
     srs_main},
};

}  // namespace

std::span<const Command> srs_commands() { return kCommands; }

}  // namespace hk::util
