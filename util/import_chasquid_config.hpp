// chasquid.conf for `hikyaku-util import-chasquid`: which settings become hikyaku.toml keys,
// which have no equivalent, and the two that shape how the aliases are read.
#pragma once

#include <filesystem>
#include <string>

#include "util/import_chasquid.hpp"

namespace hk::util {

// The chasquid.conf settings that change how domains are imported (chasquid's defaults).
struct ChasquidSettings {
  std::string suffix_separators = "+";
  std::string drop_characters = ".";
};

// Reads chasquid.conf's `text` (`file` names it in errors and in the report), adds one report
// item per setting to `plan` and, when config_dir has no hikyaku.toml yet, plans one with the
// converted settings; an existing one is never changed: the report lists the keys to set.
// Throws ImportError on a malformed file.
ChasquidSettings plan_config(const std::string& text, const std::filesystem::path& file,
                             const std::filesystem::path& config_dir, ImportPlan& plan);

}  // namespace hk::util
