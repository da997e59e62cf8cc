// Spool: where a message body goes while DATA is read (as Postfix's cleanup writes the queue file
// as the message arrives). A small message stays in memory, with no copy and no system call; a
// large one is written, as it arrives, to an anonymous file in the queue's tmp/ directory, and
// only its first bytes (enough for the header section) stay in memory. The queue or Maildir
// commit then copies the file into place (QueueStore::put with MessageData).
//
// The file has no name (O_TMPFILE; where the file system lacks it, a name unlinked at once), so
// a message dropped mid-DATA, refused, or cut by a crash leaves nothing behind: the space goes
// back when the descriptor is closed.
// SECURITY: this is what keeps a session's memory bounded whatever the message size
// (kMemoryLimit in memory, kChunk more in the reader's buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace hk::queue {

// A message ready to be committed: `head` (headers we add), then the body — `body` when it is in
// memory, otherwise `body_size` bytes read from `body_fd` at offset 0. The descriptor is only
// read with pread/copy_file_range at explicit offsets, so several copies may run at once.
struct MessageData {
  std::string_view head;
  std::string_view body;
  int body_fd = -1;
  uint64_t body_size = 0;

  uint64_t size() const { return head.size() + (body_fd >= 0 ? body_size : body.size()); }
};

class Spool {
 public:
  // A message up to this size stays in memory. 200 sessions each holding this much (plus the
  // reader's buffer of up to kChunk) stay below 100 MiB; the benchmark's messages (a few KiB)
  // never reach it.
  static constexpr size_t kMemoryLimit = 128 * 1024;
  // Once the body is on disk, bytes are written in pieces of about this size.
  static constexpr size_t kChunk = 64 * 1024;

  // `tmp_dir` is the queue's tmp/ (emptied at startup, on the queue's file system so that the
  // commit can copy within one file system); it must outlive the spool (the QueueStore's does).
  explicit Spool(const std::filesystem::path& tmp_dir, size_t memory_limit = kMemoryLimit);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Called after every read with the bytes the DataReader has stored so far: takes them when it
  // is time to write (the message has outgrown memory, or kChunk more are waiting), and leaves
  // `pending` empty then; otherwise leaves them where they are (no copy).
  void take(std::string& pending);
  // At the final dot: takes the rest. A message still in memory is moved, not copied.
  void finish(std::string& pending);

  // The message is refused (too big, bare CR/LF, NUL) while the client is still sending: the
  // space it took on disk goes back now rather than when the client is done.
  void discard();
  // The first write error (ENOSPC, EIO). Once set, bytes are dropped and the message must be
  // refused with a temporary error.
  std::error_code error() const { return error_; }
  bool on_disk() const { return fd_ >= 0; }
  uint64_t size() const { return size_; }
  // The whole message when it is in memory; the first bytes written when it is on disk (at
  // least kMemoryLimit, or the whole header section when trim_head() was called).
  std::string_view head() const { return head_; }
  // Replaces bytes.size() bytes of the message at `offset`, which must lie within head(): in
  // memory, and in the file when the message is on disk. Same length only, so nothing moves.
  std::error_code overwrite(size_t offset, std::string_view bytes);
  // Keeps only the first `n` bytes of head() (the header section, once it is known).
  void trim_head(size_t n);
  // The message as it is to be committed after `our_headers`.
  MessageData data(std::string_view our_headers) const;
  // Reads `len` bytes at `offset` of the message (from memory or the file) into `out`; blocking
  // when on disk (call it from the pool). Errors are returned, never thrown.
  std::error_code read(uint64_t offset, size_t len, std::string& out) const;

 private:
  void open_file();
  void write(std::string_view bytes);

  const std::filesystem::path& dir_;  // not copied: a small message never needs it
  size_t memory_limit_;
  int fd_ = -1;
  std::string head_;
  uint64_t size_ = 0;
  std::error_code error_;
};

}  // namespace hk::queue
