// The console's static files (daemon/console/assets/), built into the program: the build writes
// their bytes into a generated source (embed_assets.cmake), so nothing is read from disk or
// fetched from the network at run time.
#pragma once

#include <span>
#include <string_view>

namespace hk::console {

struct EmbeddedAsset {
  std::string_view name;    // the file's name in assets/, e.g. "app.js"
  std::string_view body;    // its bytes
  std::string_view sha256;  // lower-case hex digest of the bytes
};

// Every asset, sorted by name.
std::span<const EmbeddedAsset> embedded_assets();

}  // namespace hk::console
