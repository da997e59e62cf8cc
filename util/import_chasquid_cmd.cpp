// hikyaku-util import-chasquid: moves a chasquid configuration folder into hikyaku's and prints
// what was converted and what has no equivalent (import_chasquid.hpp). --dry-run prints the same
// report and writes nothing.
#include <iostream>

#include "util/args.hpp"
#include "util/command.hpp"
#include "util/import_chasquid.hpp"

namespace hk::util {
namespace {

namespace fs = std::filesystem;

std::string_view label(Outcome o) {
  switch (o) {
    case Outcome::Converted:
      return "converted";
    case Outcome::Unchanged:
      return "unchanged";
    case Outcome::Conflict:
      return "conflict ";
    case Outcome::Skipped:
      return "skipped  ";
    case Outcome::Todo:
      return "to do    ";
  }
  return "?";
}

int import_chasquid(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"dry-run", "overwrite"}, {});
  args.expect(1, "CHASQUID_DIR");
  bool dry_run = args.has("dry-run");
  ImportOptions options{fs::path(args.positional()[0]), ctx.config_dir, args.has("overwrite")};
  ImportPlan plan;
  try {
    plan = plan_import(options);
  } catch (const ImportError& e) {
    std::cerr << "hikyaku-util: import-chasquid: " << e.what() << "; nothing was written\n";
    return kExitFailure;
  }
  std::cout << "import-chasquid: " << options.source.string() << " -> "
            << options.config_dir.string() << (dry_run ? " (dry run: nothing is written)" : "")
            << "\n";
  size_t count[5] = {};
  for (const ImportItem& it : plan.items) {
    ++count[static_cast<size_t>(it.outcome)];
    std::cout << label(it.outcome) << "  " << it.subject << ": " << it.detail << "\n";
  }
  std::cout << "summary: " << count[0] << " converted, " << count[1] << " unchanged, " << count[2]
            << " conflicts, " << count[3] << " skipped, " << count[4] << " to do; "
            << plan.writes.size() << " files and " << plan.dirs.size() << " folders to write\n";
  if (dry_run) {
    std::cout << "dry run: nothing was written\n";
    return kExitOk;
  }
  std::vector<fs::path> written;
  try {
    apply_import(plan, written);
  } catch (const ImportError& e) {
    std::cerr << "hikyaku-util: import-chasquid: " << e.what() << "\n";
    for (const fs::path& p : written) {
      std::cerr << "  already written: " << p.string() << "\n";
    }
    return kExitFailure;
  }
  for (const fs::path& p : written) {
    std::cout << "wrote " << p.string() << "\n";
  }
  if (!written.empty()) {
    std::cout << "done; check with hikyaku-util check-userdb DOMAIN and hikyaku --check-config; a "
                 "running hikyaku reads the new files on SIGHUP (systemctl reload hikyaku)\n";
  } else {
    std::cout << "done; nothing needed writing\n";
  }
  return kExitOk;
}

constexpr Command kCommands[] = {
    {"import-chasquid", "CHASQUID_DIR [--dry-run] [--overwrite]",
     "Import a chasquid configuration folder (e.g. /etc/chasquid): users with their scrypt\n"
     "hashes (passwords keep working), aliases (with the '*' catch-all), dkim:SEL.pem keys,\n"
     "certs/ and the chasquid.conf settings hikyaku has (a new hikyaku.toml only when there is\n"
     "none). Prints one line per item: converted, unchanged, conflict (hikyaku's kept unless\n"
     "--overwrite), skipped (no equivalent, with what to do instead) or to do. --dry-run prints\n"
     "the same and writes nothing. A malformed input file stops it before any write (exit 1).",
     import_chasquid},
};

}  // namespace

std::span<const Command> import_commands() { return kCommands; }

}  // namespace hk::util
