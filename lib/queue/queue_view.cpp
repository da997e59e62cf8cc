// QueueView: listing a queue folder and reading its messages, never changing anything.
#include "lib/queue/queue_view.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/queue/queue_file.hpp"

namespace hk::queue {

namespace fs = std::filesystem;

namespace {

using base::errno_code;

// A header block larger than this is corrupt (it would take ~200,000 recipients).
constexpr size_t kMaxHeader = 16 * 1024 * 1024;

std::error_code bad() { return std::make_error_code(std::errc::bad_message); }

// Reads the file open on `fd` up to the end of its header block (not the message bytes).
std::error_code read_header(int fd, std::string& out) {
  out.clear();
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_code();
    }
    if (n == 0) {
      return bad();  // no end of header
    }
    // The "\n\n" may straddle two reads: search from one byte before the new data.
    size_t from = out.empty() ? 0 : out.size() - 1;
    out.append(buf, static_cast<size_t>(n));
    size_t end = header_end(std::string_view(out).substr(from));
    if (end != std::string_view::npos) {
      out.resize(from + end);
      return {};
    }
    if (out.size() > kMaxHeader) {
      return bad();
    }
  }
}

// Parses a header block that must belong to `id`.
std::error_code parse_own_header(std::string_view header, const std::string& id, Envelope& env) {
  if (std::error_code ec = parse_header(header, env)) {
    return ec;
  }
  // A file renamed by hand must not be delivered, listed or changed as another message.
  return env.id == id ? std::error_code() : bad();
}

}  // namespace

QueueView::QueueView(fs::path dir) : dir_(std::move(dir)) {}

std::error_code QueueView::list(std::vector<std::string>& ids) const {
  ids.clear();
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.ends_with(kMessageSuffix)) {
      continue;
    }
    name.resize(name.size() - kMessageSuffix.size());
    if (valid_id(name)) {
      ids.push_back(std::move(name));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ec;
}

std::error_code QueueView::load_envelope(const std::string& id, Envelope& env,
                                         MessageSizes* sizes) const {
  if (!valid_id(id)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  base::UniqueFd fd(::open(message_path(id).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno_code();
  }
  struct stat st {};
  if (sizes != nullptr && ::fstat(fd.get(), &st) != 0) {
    return errno_code();
  }
  std::string header;
  if (std::error_code ec = read_header(fd.get(), header)) {
    return ec;
  }
  if (std::error_code ec = parse_own_header(header, id, env)) {
    return ec;
  }
  if (sizes != nullptr) {
    sizes->header = header.size();
    sizes->message = static_cast<uint64_t>(st.st_size) - header.size();
  }
  return load_state(id, env);
}

std::error_code QueueView::load(const std::string& id, Envelope& env, std::string& message) const {
  if (!valid_id(id)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (std::error_code ec = base::read_file(message_path(id), message)) {
    return ec;
  }
  size_t end = header_end(message);
  if (end == std::string::npos) {
    return bad();
  }
  if (std::error_code ec = parse_own_header(std::string_view(message).substr(0, end), id, env)) {
    return ec;
  }
  message.erase(0, end);
  return load_state(id, env);
}

fs::path QueueView::message_path(std::string_view id) const {
  return dir_ / (std::string(id) + std::string(kMessageSuffix));
}

fs::path QueueView::state_path(std::string_view id) const {
  return dir_ / (std::string(id) + std::string(kStateSuffix));
}

// Applies <id>.state when it exists; without one every recipient is pending, never tried.
std::error_code QueueView::load_state(const std::string& id, Envelope& env) const {
  std::string state;
  std::error_code ec = base::read_file(state_path(id), state);
  if (ec == std::errc::no_such_file_or_directory) {
    return {};
  }
  return ec ? ec : apply_state(state, env);
}

}  // namespace hk::queue
