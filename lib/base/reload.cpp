// Fingerprint: stat(2) of the files a reloadable value is built from.
#include "lib/base/reload.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace hk::base {

namespace {

long long nanoseconds(const timespec& t) {
  return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

}  // namespace

void Fingerprint::add_file(const std::filesystem::path& path) {
  FileStamp stamp;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    stamp.error = errno;
  } else {
    stamp.dev = st.st_dev;
    stamp.ino = st.st_ino;
    stamp.size = static_cast<unsigned long long>(st.st_size);
    stamp.mode = st.st_mode;
    stamp.mtime_ns = nanoseconds(st.st_mtim);
    stamp.ctime_ns = nanoseconds(st.st_ctim);
  }
  files_[path.string()] = stamp;
}

void Fingerprint::add_name(const std::filesystem::path& path) { files_[path.string()] = {}; }

}  // namespace hk::base
