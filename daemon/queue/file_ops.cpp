// FileOps: the real system calls, and the failing variant for tests.
#include "daemon/queue/file_ops.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <string>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"

namespace hk::queue {
using base::errno_code;

std::error_code FileOps::open(const std::filesystem::path& path, int flags, mode_t mode, int& fd) {
  fd = ::open(path.c_str(), flags, mode);
  return fd < 0 ? errno_code() : std::error_code{};
}

std::error_code FileOps::write(int fd, std::string_view data) { return base::write_all(fd, data); }

std::error_code FileOps::write_parts(int fd, std::span<const std::string_view> parts) {
  constexpr size_t kMaxParts = 8;
  if (parts.size() > kMaxParts) {
    for (std::string_view part : parts) {
      if (std::error_code ec = write(fd, part)) {
        return ec;
      }
    }
    return {};
  }
  std::array<iovec, kMaxParts> iov{};
  size_t count = 0;
  for (std::string_view part : parts) {
    if (!part.empty()) {
      iov[count++] = {const_cast<char*>(part.data()), part.size()};
    }
  }
  size_t first = 0;
  while (first < count) {
    ssize_t n = ::writev(fd, iov.data() + first, static_cast<int>(count - first));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_code();
    }
    // A short write: skip what went out, and go on from the middle of a part if need be.
    auto left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return {};
}

std::error_code FileOps::copy(int out_fd, int in_fd, uint64_t size) {
  loff_t in_off = 0;
  bool fallback = false;
  while (static_cast<uint64_t>(in_off) < size) {
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(size - static_cast<uint64_t>(in_off), uint64_t{1} << 30));
    ssize_t n = ::copy_file_range(in_fd, &in_off, out_fd, nullptr, want, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      fallback = true;  // different file systems, or one that cannot: copy through memory
      break;
    }
    if (n < 0) {
      return errno_code();
    }
    if (n == 0) {
      return std::make_error_code(std::errc::io_error);  // the source is shorter than said
    }
  }
  if (!fallback) {
    return {};
  }
  std::string buffer(64 * 1024, '\0');
  while (static_cast<uint64_t>(in_off) < size) {
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(size - static_cast<uint64_t>(in_off), buffer.size()));
    ssize_t n = ::pread(in_fd, buffer.data(), want, in_off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n < 0 ? errno_code() : std::make_error_code(std::errc::io_error);
    }
    if (std::error_code ec =
            write(out_fd, std::string_view(buffer.data(), static_cast<size_t>(n)))) {
      return ec;
    }
    in_off += n;
  }
  return {};
}

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

std::error_code FailingFileOps::write_parts(int fd, std::span<const std::string_view> parts) {
  return fail_now(FileOp::Write) ? std::make_error_code(error_) : FileOps::write_parts(fd, parts);
}

std::error_code FailingFileOps::copy(int out_fd, int in_fd, uint64_t size) {
  return fail_now(FileOp::Write) ? std::make_error_code(error_)
                                 : FileOps::copy(out_fd, in_fd, size);
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
