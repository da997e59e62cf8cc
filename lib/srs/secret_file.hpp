// The SRS secrets: DATA_DIR/srs.key, one secret per line (the first signs new addresses, every
// line is accepted when checking one, so that a secret can be rotated without refusing the
// bounces of mail forwarded before), created with one random secret at first start, reloaded
// when the file changes.
// SECURITY: whoever knows a secret can make us relay to any address; the file is created 0600,
// refused when other users may read or write it, and its content is never logged or printed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/reload.hpp"
#include "lib/srs/srs.hpp"

namespace hk::srs {

// Shorter secrets are refused: a guessable secret is no secret (ours are 32 random bytes).
inline constexpr size_t kMinSecretLength = 16;

// The secrets in a file's text: one per line, surrounding blanks trimmed; empty lines and lines
// starting with '#' are skipped. Throws std::runtime_error naming `file` and the line for a
// secret shorter than kMinSecretLength, or when there is none.
std::vector<std::string> parse_secrets(std::string_view text, const std::string& file);

// Writes `path` with one fresh secret (32 random bytes in base64), mode 0600, durably, when no
// file is there. Returns true when it made one; throws std::runtime_error when it cannot.
bool create_secret_file(const std::filesystem::path& path);

class SecretFile {
 public:
  // Creates the file when absent, then loads it; throws std::runtime_error (naming the file, never
  // a secret) when it is unreadable, open to other users or holds no usable secret.
  explicit SecretFile(std::filesystem::path path);
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;

  // Cheap when the file did not change (stat(2)); a broken new file keeps the old secrets.
  base::ReloadResult reload_if_changed() { return codec_.reload_if_changed(); }
  // The codec with the secrets in service; stays valid while the caller holds it.
  std::shared_ptr<const Codec> current() const { return codec_.current(); }
  bool created() const { return created_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::shared_ptr<const Codec> load() const;

  const std::filesystem::path path_;
  bool created_ = false;
  base::Reloadable<const Codec> codec_;
};

}  // namespace hk::srs
