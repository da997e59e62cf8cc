// Maildir delivery.
#include "daemon/queue/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"

namespace hk::queue {

namespace fs = std::filesystem;

namespace {

using base::errno_code;

std::atomic<uint64_t> g_delivery_counter{0};

// One path component built from mail: never empty, ".", "..", a dot file, a path or a control.
bool safe_component(std::string_view s) {
  if (s.empty() || s.size() > 255 || s.front() == '.') {
    return false;
  }
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '/') {
      return false;
    }
  }
  return true;
}

// The Maildir convention writes '/' and ':' in the host part of a name as octal escapes.
std::string name_hostname(std::string_view host) {
  std::string out;
  for (char c : host) {
    if (c == '/') {
      out += "\\057";
    } else if (c == ':') {
      out += "\\072";
    } else if (static_cast<unsigned char>(c) > 0x20 && c != 0x7f) {
      out += c;
    }
  }
  return out.empty() ? "localhost" : out;
}

// Drops CR, LF and other controls, so that a header value cannot start a new header.
std::string header_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
    }
  }
  return out;
}

// mkdir 0700 when missing; a new folder's entry in its parent is made durable too.
std::error_code ensure_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0700) == 0) {
    return base::fsync_dir(p.parent_path());
  }
  return errno == EEXIST ? std::error_code{} : errno_code();
}

std::error_code write_new_file(const fs::path& path, std::string_view head, std::string_view body) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno_code();
  }
  std::error_code ec = base::write_all(fd, head);
  if (!ec) {
    ec = base::write_all(fd, body);
  }
  if (!ec && ::fsync(fd) != 0) {
    ec = errno_code();
  }
  if (::close(fd) != 0 && !ec) {
    ec = errno_code();
  }
  if (ec) {
    ::unlink(path.c_str());
  }
  return ec;
}

}  // namespace

fs::path maildir_path(const fs::path& mail_dir, const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) {
    return {};
  }
  std::string user = address.substr(0, at);
  std::string domain = address.substr(at + 1);
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (!safe_component(user) || !safe_component(domain)) {
    return {};
  }
  return mail_dir / domain / user;
}

std::error_code prepare_maildir_copy(const fs::path& mail_dir, const std::string& address,
                                     const std::string& return_path, size_t message_size,
                                     const std::string& hostname, MaildirCopy& out) {
  out.box = maildir_path(mail_dir, address);
  if (out.box.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  // One stat in the common case instead of six mkdirs: cur/ is made last, so its presence means
  // the mailbox is complete.
  struct stat st {};
  if (::stat((out.box / "cur").c_str(), &st) != 0) {
    for (const fs::path& d : {mail_dir, out.box.parent_path(), out.box, out.box / "tmp",
                              out.box / "new", out.box / "cur"}) {
      if (std::error_code ec = ensure_dir(d)) {
        return ec;
      }
    }
  }
  out.head = "Return-Path: <" + header_value(return_path) +
             ">\r\nDelivered-To: " + header_value(address) + "\r\n";
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  out.name = std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" +
             std::to_string(::getpid()) + "Q" + std::to_string(++g_delivery_counter) + "." +
             name_hostname(hostname) + ",S=" + std::to_string(out.head.size() + message_size);
  return {};
}

std::error_code deliver_to_maildir(const fs::path& mail_dir, const std::string& address,
                                   const std::string& return_path, std::string_view message,
                                   std::string hostname) {
  fs::path box = maildir_path(mail_dir, address);
  if (box.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  for (const fs::path& d :
       {mail_dir, box.parent_path(), box, box / "tmp", box / "new", box / "cur"}) {
    if (std::error_code ec = ensure_dir(d)) {
      return ec;
    }
  }

  std::string head = "Return-Path: <" + header_value(return_path) +
                     ">\r\nDelivered-To: " + header_value(address) + "\r\n";
  std::string size = std::to_string(head.size() + message.size());
  std::string host = name_hostname(hostname);
  std::error_code ec;
  // The name is unique by construction (time, pid, counter); O_EXCL and RENAME_NOREPLACE turn a
  // collision (a pid reused within the same microsecond) into a retry, never an overwrite.
  for (int attempt = 0; attempt < 5; ++attempt) {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    std::string name = std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" +
                       std::to_string(::getpid()) + "Q" + std::to_string(++g_delivery_counter) +
                       "." + host + ",S=" + size;
    fs::path tmp = box / "tmp" / name;
    ec = write_new_file(tmp, head, message);
    if (ec == std::errc::file_exists) {
      continue;
    }
    if (ec) {
      return ec;
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, (box / "new" / name).c_str(),
                    RENAME_NOREPLACE) != 0) {
      ec = errno_code();
      ::unlink(tmp.c_str());
      if (ec == std::errc::file_exists) {
        continue;
      }
      return ec;
    }
    return base::fsync_dir(box / "new");
  }
  return ec;
}

}  // namespace hk::queue
