// Reading hikyaku.toml for a hikyaku-util command: on a broken file the command prints the
// parser's "FILE:LINE: KEY: why" as hikyaku-util's one error line and exits 1.
#pragma once

#include <iostream>

#include "lib/config/config.hpp"
#include "util/command.hpp"

namespace hk::util {

// False (the error printed on stderr) when CONFIG_DIR/hikyaku.toml cannot be read.
inline bool load_or_report(const Context& ctx, config::Config& cfg) {
  try {
    cfg = config::load_config(ctx.config_dir);
    return true;
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return false;
  }
}

}  // namespace hk::util
