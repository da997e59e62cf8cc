// FileOps: the real system calls, and the failing variant for tests.
#include "daemon/queue/file_ops.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"

namespace hk::queue {
using base::errno_code;

std::error_code FileOps::open(const std::filesystem::path& path, int flags, mode_t mode, int& fd) {
  fd = ::open(path.c_str(), flags, mode);
  return fd < 0 ? errno_code() : std::error_code{};
}

std::error_code FileOps::write(int fd, std::string_view data) { return base::write_all(fd, data); }

std::error_code FileOps::sync(int fd) {
  return ::fdatasync(fd) == 0 ? std::error_code{} : errno_code();
}

std::error_code FileOps::close(int fd) {
  return ::close(fd) == 0 ? std::error_code{} : errno_code();
}

std::error_code FileOps::rename_noreplace(const std::filesystem::path& from,
                                          const std::filesystem::path& to) {
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0
             ? std::error_code{}
             : errno_code();
}

std::error_code FileOps::sync_dir(const std::filesystem::path& dir) { return base::fsync_dir(dir); }

bool FailingFileOps::fail_now(FileOp op) {
  if (op != op_) {
    return false;
  }
  int n = ++calls_;
  return n == nth_ || (sticky_ && n > nth_);
}

std::error_code FailingFileOps::open(const std::filesystem::path& path, int flags, mode_t mode,
                                     int& fd) {
  if (fail_now(FileOp::Open)) {
    fd = -1;
    return std::make_error_code(error_);
  }
  return FileOps::open(path, flags, mode, fd);
}

std::error_code FailingFileOps::write(int fd, std::string_view data) {
  return fail_now(FileOp::Write) ? std::make_error_code(error_) : FileOps::write(fd, data);
}

std::error_code FailingFileOps::sync(int fd) {
  return fail_now(FileOp::Sync) ? std::make_error_code(error_) : FileOps::sync(fd);
}

std::error_code FailingFileOps::close(int fd) {
  if (fail_now(FileOp::Close)) {
    // The descriptor is released all the same, as close(2) does when it reports an error.
    FileOps::close(fd);
    return std::make_error_code(error_);
  }
  return FileOps::close(fd);
}

std::error_code FailingFileOps::rename_noreplace(const std::filesystem::path& from,
                                                 const std::filesystem::path& to) {
  return fail_now(FileOp::Rename) ? std::make_error_code(error_)
                                  : FileOps::rename_noreplace(from, to);
}

std::error_code FailingFileOps::sync_dir(const std::filesystem::path& dir) {
  return fail_now(FileOp::SyncDir) ? std::make_error_code(error_) : FileOps::sync_dir(dir);
}

}  // namespace hk::queue
