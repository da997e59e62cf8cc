// The config tests' way in: parse a hikyaku.toml text as if it were /etc/hikyaku/hikyaku.toml,
// and read back the error it makes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "lib/config/config.hpp"

namespace hk::config::test {

inline const std::filesystem::path kFile = "/etc/hikyaku/hikyaku.toml";
inline const std::filesystem::path kDir = "/etc/hikyaku";

inline Config parse(std::string_view text) { return parse_config(text, kFile, kDir); }

// The ConfigError's text, or "no error".
inline std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace hk::config::test
