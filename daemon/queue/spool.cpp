// Spool: a message body in memory, or in an anonymous file once it outgrows memory.
#include "daemon/queue/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "daemon/queue/queue_store.hpp"
#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"

namespace hk::queue {

using base::errno_code;

Spool::Spool(const std::filesystem::path& tmp_dir, size_t memory_limit)
    : dir_(tmp_dir), memory_limit_(memory_limit) {}

Spool::~Spool() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void Spool::open_file() {
  fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ >= 0) {
    return;
  }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    error_ = errno_code();
    return;
  }
  // No O_TMPFILE here: a name no one else uses (O_EXCL), unlinked before anything is written.
  std::filesystem::path path = dir_ / ("spool." + QueueStore::new_id());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error_ = errno_code();
    return;
  }
  ::unlink(path.c_str());
}

void Spool::write(std::string_view bytes) {
  if (error_) {
    return;
  }
  if (std::error_code ec = base::write_all(fd_, bytes)) {
    error_ = ec;
    // Give the space back at once: the message is refused, and a full disk should not stay full
    // until the client finishes sending.
    if (::ftruncate(fd_, 0) != 0) {
      // Nothing more to do: closing the descriptor frees the space anyway.
    }
    return;
  }
  size_ += bytes.size();
}

void Spool::take(std::string& pending) {
  if (error_) {
    pending.clear();
    return;
  }
  if (fd_ < 0) {
    if (pending.size() <= memory_limit_) {
      return;  // still fits in memory: no copy, no system call
    }
    open_file();
    if (error_) {
      pending.clear();
      return;
    }
    write(pending);
    // The first bytes stay in memory for the header checks (trim_head keeps only what they need).
    head_ = std::move(pending);
    pending = std::string();
    pending.reserve(kChunk + kChunk / 2);
    return;
  }
  if (pending.size() >= kChunk) {
    write(pending);
    pending.clear();
  }
}

void Spool::finish(std::string& pending) {
  if (fd_ < 0 && !error_) {
    size_ = pending.size();
    head_ = std::move(pending);
    pending = std::string();
    return;
  }
  write(pending);
  pending = std::string();
}

void Spool::discard() {
  if (fd_ >= 0 && size_ > 0 && ::ftruncate(fd_, 0) == 0) {
    size_ = 0;
  }
}

std::error_code Spool::overwrite(size_t offset, std::string_view bytes) {
  if (offset > head_.size() || bytes.size() > head_.size() - offset) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (fd_ >= 0) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                           static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return n < 0 ? errno_code() : std::make_error_code(std::errc::io_error);
      }
      done += static_cast<size_t>(n);
    }
  }
  head_.replace(offset, bytes.size(), bytes);
  return {};
}

void Spool::trim_head(size_t n) {
  if (fd_ >= 0 && n < head_.size()) {
    head_.resize(n);
    head_.shrink_to_fit();
  }
}

MessageData Spool::data(std::string_view our_headers) const {
  MessageData d;
  d.head = our_headers;
  if (fd_ >= 0) {
    d.body_fd = fd_;
    d.body_size = size_;
  } else {
    d.body = head_;
  }
  return d;
}

std::error_code Spool::read(uint64_t offset, size_t len, std::string& out) const {
  out.clear();
  if (offset >= size_) {
    return {};
  }
  len = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
  if (fd_ < 0) {
    out.assign(head_, static_cast<size_t>(offset), len);
    return {};
  }
  out.resize(len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd_, out.data() + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      out.clear();
      return errno_code();
    }
    if (n == 0) {
      out.clear();
      return std::make_error_code(std::errc::io_error);  // the file is shorter than written
    }
    got += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace hk::queue
