// Summaries of captured messages, and reading just the head of a stored capture file.
#include "daemon/capture/summary.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "lib/base/ascii.hpp"
#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/base/text.hpp"
#include "lib/queue/queue_file.hpp"

namespace hk::capture {

namespace {

using base::errno_code;

// A header block longer than this is not one we wrote (a few hundred bytes plus one line per
// recipient; 1 MiB is thousands of recipients).
constexpr size_t kMaxHeaderBlock = 1024 * 1024;

std::error_code bad() { return std::make_error_code(std::errc::bad_message); }

// The microseconds since the epoch in the first 11 characters of a QueueStore::new_id ID.
std::optional<uint64_t> id_micros(std::string_view id) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  if (id.size() != 19) {
    return std::nullopt;
  }
  uint64_t us = 0;
  for (size_t i = 0; i < 11; ++i) {
    size_t v = kAlphabet.find(id[i]);
    if (v == std::string_view::npos) {
      return std::nullopt;
    }
    us = (us << 5) | v;
  }
  return us;
}

// Reads up to `n` bytes at `offset`; fewer only at the end of the file.
std::error_code pread_some(int fd, uint64_t offset, size_t n, std::string& out) {
  size_t old = out.size();
  out.resize(old + n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + old + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::error_code ec = errno_code();
      out.resize(old);
      return ec;
    }
    if (r == 0) {
      break;
    }
    got += static_cast<size_t>(r);
  }
  out.resize(old + got);
  return {};
}

std::vector<mime::Address> addresses(const mime::Message& m, std::string_view name) {
  std::vector<mime::Address> out;
  for (const mime::Header& h : m.headers) {
    if (base::iequals(h.name, name)) {
      std::vector<mime::Address> list = mime::parse_address_list(h.raw);
      for (mime::Address& a : list) {
        if (!a.address.empty() || !a.name.empty()) {
          out.push_back(std::move(a));
        }
      }
    }
  }
  return out;
}

bool named(const std::vector<mime::Address>& list, std::string_view address) {
  return std::any_of(list.begin(), list.end(),
                     [&](const mime::Address& a) { return base::iequals(a.address, address); });
}

}  // namespace

queue::TimePoint created_of(const queue::Envelope& env) {
  using std::chrono::microseconds;
  std::optional<uint64_t> us = id_micros(env.id);
  auto secs = std::chrono::floor<std::chrono::seconds>(env.created);
  if (us) {
    queue::TimePoint precise(std::chrono::duration_cast<queue::TimePoint::duration>(
        microseconds(static_cast<int64_t>(*us))));
    if (std::chrono::floor<std::chrono::seconds>(precise) == secs) {
      return precise;
    }
  }
  return secs;
}

Summary summarize(const queue::Envelope& env, std::string_view head, uint64_t size) {
  mime::Message m = mime::parse(head.substr(0, std::min(head.size(), kSummaryBytes)));
  Summary s;
  s.id = env.id;
  s.created = created_of(env);
  if (std::optional<std::string> mid = m.header("Message-ID")) {
    std::string_view v = base::trim(*mid, " \t<>");
    s.message_id = std::string(v);
  }
  std::vector<mime::Address> from = addresses(m, "From");
  if (!from.empty()) {
    s.from = std::move(from.front());
  }
  s.to = addresses(m, "To");
  s.cc = addresses(m, "Cc");
  s.reply_to = addresses(m, "Reply-To");
  s.envelope_from = env.from;
  for (const queue::Recipient& r : env.rcpts) {
    // One RCPT TO may have become several recipients (an alias): list what the client gave once.
    const std::string& given = r.original.empty() ? r.address : r.original;
    if (std::none_of(s.envelope_to.begin(), s.envelope_to.end(),
                     [&](const std::string& x) { return base::iequals(x, given); })) {
      s.envelope_to.push_back(given);
    }
  }
  for (const std::string& r : s.envelope_to) {
    if (!named(s.to, r) && !named(s.cc, r)) {
      s.bcc.push_back(mime::Address{.name = "", .address = r});
    }
  }
  s.subject = m.header("Subject").value_or("");
  s.snippet = mime::snippet(m);
  s.size = static_cast<size_t>(size);
  s.attachments = m.attachments.size();
  return s;
}

std::error_code message_head(const queue::MessageData& message, std::string& out) {
  out.assign(message.head.substr(0, std::min(message.head.size(), kSummaryBytes)));
  size_t want = kSummaryBytes - out.size();
  if (message.body_fd < 0) {
    out.append(message.body.substr(0, std::min(message.body.size(), want)));
    return {};
  }
  return pread_some(message.body_fd, 0,
                    static_cast<size_t>(std::min<uint64_t>(want, message.body_size)), out);
}

std::error_code read_stored(const std::filesystem::path& file, const std::string& id,
                            queue::Envelope& env, std::string& head, uint64_t& size) {
  int raw = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (raw < 0 && errno == EPERM) {
    raw = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);  // O_NOATIME is for the file's owner only
  }
  base::UniqueFd fd(raw);
  if (fd.get() < 0) {
    return errno_code();
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return errno_code();
  }
  // One read holds the header block and the summary's bytes for every ordinary file.
  // (Sized by the file: a buffer made bigger than the file would be zero-filled for nothing.)
  std::string buf;
  auto file_size = static_cast<uint64_t>(st.st_size);
  if (std::error_code ec = pread_some(
          fd.get(), 0, static_cast<size_t>(std::min<uint64_t>(file_size, 4096 + kSummaryBytes)),
          buf)) {
    return ec;
  }
  size_t end = queue::header_end(buf);
  while (end == std::string::npos && buf.size() < static_cast<uint64_t>(st.st_size) &&
         buf.size() < kMaxHeaderBlock) {
    if (std::error_code ec = pread_some(fd.get(), buf.size(), 64 * 1024, buf)) {
      return ec;
    }
    end = queue::header_end(buf);
  }
  if (end == std::string::npos) {
    return bad();
  }
  if (std::error_code ec = queue::parse_header(std::string_view(buf).substr(0, end), env)) {
    return ec;
  }
  if (env.id != id) {
    return bad();
  }
  size = static_cast<uint64_t>(st.st_size) - end;
  if (buf.size() - end < kSummaryBytes && buf.size() < static_cast<uint64_t>(st.st_size)) {
    if (std::error_code ec =
            pread_some(fd.get(), buf.size(), kSummaryBytes - (buf.size() - end), buf)) {
      return ec;
    }
  }
  head.assign(buf, end, kSummaryBytes);
  return {};
}

}  // namespace hk::capture
