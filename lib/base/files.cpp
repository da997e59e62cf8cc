// Durable file operations.
#include "lib/base/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "lib/base/errno.hpp"

namespace hk::base {
namespace {}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::error_code UniqueFd::close() {
  int fd = fd_;
  fd_ = -1;
  return ::close(fd) == 0 ? std::error_code{} : errno_code();
}

std::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_code();
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

std::error_code fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno_code();
  }
  if (::fsync(fd.get()) != 0) {
    return errno_code();
  }
  return fd.close();
}

std::error_code write_file_atomic(const std::filesystem::path& path, std::string_view data,
                                  mode_t mode) {
  std::random_device rd;
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(rd());
  std::error_code ec;
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) {
      return errno_code();
    }
    // open(2) applies the umask; the caller's mode (0600 for secrets) must hold exactly.
    if (::fchmod(fd.get(), mode) != 0 || (ec = write_all(fd.get(), data)) ||
        ::fsync(fd.get()) != 0) {
      if (!ec) {
        ec = errno_code();
      }
      ::unlink(tmp.c_str());
      return ec;
    }
    if ((ec = fd.close())) {
      ::unlink(tmp.c_str());
      return ec;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ec = errno_code();
    ::unlink(tmp.c_str());
    return ec;
  }
  std::filesystem::path dir = path.parent_path();
  return fsync_dir(dir.empty() ? std::filesystem::path(".") : dir);
}

std::error_code read_file(const std::filesystem::path& path, std::string& out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno_code();
  }
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_code();
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return {};
}

}  // namespace hk::base
