// Durable file operations: atomic replace, fsync of files and directories, whole-file reads.
// Every file hikyaku writes that must survive a crash goes through these.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace hk::base {

// Owns a file descriptor: closed on every path out of a scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  // Closes now and reports the error close(2) saw (NFS and some disks report write errors here).
  std::error_code close();

 private:
  int fd_;
};

// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the directory: readers see either the old or the new content, never a mix, even after a crash.
std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view data,
                                  mode_t mode = 0644);

// fsync(2) on a directory, so that a create, rename or unlink in it is durable.
std::error_code fsync_dir(const std::filesystem::path& dir);

// Reads a whole file. Errors carry errno.
std::error_code read_file(const std::filesystem::path& path, std::string& out);

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
std::error_code write_all(int fd, std::string_view data);

}  // namespace hk::base
