// TempDir: a fresh folder under the system temp dir for one test, removed afterwards, plus small
// helpers to write files into it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace hk::domains::test {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("hk-domains-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

  // Writes `text` to path()/relative, creating folders.
  std::filesystem::path write(const std::string& relative, std::string_view text) const {
    std::filesystem::path p = path_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    if (p.filename() == "users") {
      std::filesystem::permissions(
          p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace hk::domains::test
