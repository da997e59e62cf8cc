// `hikyaku --dev [DIR]`: a ready configuration for a developer's machine — capture mode on, SMTP
// on 127.0.0.1:1025 and the console on 127.0.0.1:8025, nothing that needs root — written into DIR
// when DIR has none, so that the daemon can start from it in the foreground (docs/capture.md).
#pragma once

#include <filesystem>
#include <string>

namespace hk::server {

// Where --dev keeps its configuration and data when no DIR is given: $XDG_DATA_HOME/hikyaku-dev,
// else $HOME/.local/share/hikyaku-dev. Throws std::runtime_error when neither is set.
std::filesystem::path default_dev_dir();

// The hikyaku.toml that --dev writes (data under DIR/data, relative to the file).
std::string dev_config_text();

struct DevSetup {
  std::filesystem::path dir;     // absolute: the configuration directory to run with
  std::filesystem::path config;  // dir/hikyaku.toml
  bool created = false;          // written now; false: an existing one is used as it is
};

// Creates DIR (mode 0700 when new) and, when DIR/hikyaku.toml is missing, writes it and a
// self-signed certificate for localhost (STARTTLS for clients that insist on it). An existing
// file is never touched, so a developer's edits (other ports, [capture] deliver) stay. Throws
// std::runtime_error naming the path when a folder or file cannot be made.
DevSetup prepare_dev_dir(const std::filesystem::path& dir);

}  // namespace hk::server
