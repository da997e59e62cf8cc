// TempDir: the one temporary directory of the tests, made fresh and removed with all it holds.
#pragma once

#include <filesystem>
#include <string_view>

namespace hk::test {

// A directory of its own under the system temp dir (TMPDIR), mode 0700, removed with everything
// in it at destruction.
class TempDir {
 public:
  TempDir();  // throws std::runtime_error if the directory cannot be made
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `text` to path()/relative (mode 0600), creating its folders and replacing any file
  // there; returns the file's path. Throws std::runtime_error if the file cannot be written.
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

}  // namespace hk::test
