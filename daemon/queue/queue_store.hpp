// QueueStore: the durable on-disk queue. One file per message plus a per-recipient state sidecar;
// puts are written with group commit by one writer thread (which fans each batch's fdatasyncs out
// to a few sync threads) and acknowledged only once durable.
//
// On-disk format, version 1 (also in docs/queue-format.md; read by lib/queue/queue_view.hpp):
//
//   <queue_dir>/tmp/<ID>      a message being written; never read; emptied at startup
//   <queue_dir>/<ID>.msg      a complete message, fsynced together with its directory entry
//   <queue_dir>/<ID>.state    per-recipient delivery state, replaced atomically (optional)
//
// <ID>: 19 characters of Crockford base32 ("0-9A-Z" without I L O U), 11 for the microseconds
// since the Unix epoch and 8 for 40 random bits, so that IDs sort by creation time as strings.
//
// <ID>.msg is the envelope header block, then the message bytes exactly as received:
//
//   hikyaku-queue 1
//   id: 1K0YGE493PY941M693M
//   created: 1718000000                  unix seconds
//   from: alice@example.org              empty for the null sender <>
//   rcpt: local bob@example.net Bob@example.net          local|remote, final, as in RCPT TO
//   rcpt: remote carol@example.com carol@example.com     one line per recipient, in order
//   client-ip: 192.0.2.1
//   helo: mail.example.org
//   auth-user: alice@example.org
//   smtputf8: no                         yes|no
//   body: 7bit                           7bit|8bitmime
//   <empty line>
//   <message bytes, CRLF line endings>
//
// Header lines end with LF. Values are percent-escaped: bytes 0x00-0x20, '%' and 0x7f become %XX,
// so no value holds CR, LF or a space. Unknown keys are ignored on read.
//
// <ID>.state (when absent every recipient is pending with 0 attempts):
//
//   hikyaku-state 1
//   delay-warned: 1718014400             optional: when the sender got the delay warning
//   rcpt: 0 delivered 1 0 bob@example.net 250%202.0.0%20delivered
//   rcpt: 1 pending 3 1718003600 carol@example.com 451%204.7.1%20try%20later
//          ^index ^state ^attempts ^next attempt (unix s) ^address (checked) ^last reply
//
// The last reply is the one-line form "code enhanced text" (reply_line()); the reader splits it
// back into Recipient::last_code, last_enhanced and last_text.
//
// Unknown keys in the sidecar are skipped too, so older versions read newer sidecars.
//
// A message is visible only when complete: tmp/<ID> is created with O_EXCL, written, fdatasync'd,
// renamed to <ID>.msg (never replacing one) and the queue directory is fsynced. Removal unlinks
// <ID>.msg first, then <ID>.state; startup removes a .state without its .msg.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "daemon/queue/file_ops.hpp"
#include "daemon/queue/spool.hpp"
#include "lib/queue/envelope.hpp"
#include "lib/queue/queue_view.hpp"

namespace hk::queue {

// Counters of the group-commit writer, for the benchmark, tests and metrics.
struct PutStats {
  uint64_t puts = 0;     // completed puts, successful or not
  uint64_t batches = 0;  // batches written (one directory fsync each)
  size_t max_batch = 0;  // largest batch so far
};

class QueueStore {
 public:
  // Creates the directories (0700) when missing, cleans tmp/ and leftovers of interrupted state
  // writes, and starts the writer thread. Throws std::filesystem::filesystem_error at startup.
  explicit QueueStore(std::filesystem::path queue_dir);
  // Finishes every put already started, then stops the writer thread.
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // A new unique ID, sortable by creation time (see the format above).
  static std::string new_id();

  // Durably stores envelope + message (env.id must be set and valid). Completes on the caller's
  // executor only after the file and the directory are fsynced. Returns the error (ENOSPC, EIO,
  // EEXIST for a duplicate id, EINVAL for a bad id) instead of throwing; on error nothing is left
  // in the queue. `message` must stay valid until the put completes (it does: the caller's
  // coroutine frame is suspended meanwhile).
  boost::asio::awaitable<std::error_code> put(const Envelope& env, std::string_view message);
  // The same for a message in pieces: `message.head` then the body, from memory or copied from
  // the spool file (its descriptor must stay open until the put completes).
  boost::asio::awaitable<std::error_code> put(const Envelope& env, const MessageData& message);
  // Delivers a message whose recipients are all local straight into their Maildirs, in the same
  // group commit as queue writes, instead of queueing it: completes once every copy and every
  // new/ folder is fsynced. On error no copy is left behind, and the caller queues the message.
  boost::asio::awaitable<std::error_code> deliver_local(const Envelope& env,
                                                        const MessageData& message,
                                                        const std::filesystem::path& mail_dir,
                                                        const std::string& hostname);
  boost::asio::awaitable<std::error_code> deliver_local(const Envelope& env,
                                                        std::string_view message,
                                                        const std::filesystem::path& mail_dir,
                                                        const std::string& hostname) {
    return deliver_local(env, MessageData{.head = {}, .body = message}, mail_dir, hostname);
  }

  // Bytes available to us on the queue's file system (statvfs f_bavail), measured at most once a
  // second: MAIL FROM asks for every transaction, and the answer need not be fresher. Nothing
  // (all space free) when statvfs fails: an unknown is not a reason to refuse mail.
  uint64_t available_bytes();
  // A spool for the next message's body, in tmp/ (see spool.hpp).
  const std::filesystem::path& spool_dir() const { return tmp_dir_; }

  // Blocking helpers, safe from any thread (startup, delivery via the pool). Reading goes through
  // the same QueueView as hikyaku-util's, so that the format has one reader.
  std::vector<std::string> list() const;  // ids of complete messages, oldest first; errors logged
  // Reads only the header block, then applies <id>.state.
  std::error_code load_envelope(const std::string& id, Envelope& env) const;
  // The bytes after the header block.
  std::error_code read_message(const std::string& id, std::string& message) const;
  // Both with one read of the file (what a delivery attempt needs).
  std::error_code load(const std::string& id, Envelope& env, std::string& message) const;
  std::error_code save_state(const Envelope& env);  // rewrite <id>.state atomically
  std::error_code remove(const std::string& id);    // unlink .msg and .state, fsync the directory
  std::filesystem::path message_path(const std::string& id) const;
  const std::filesystem::path& dir() const { return dir_; }
  const QueueView& view() const { return view_; }

  PutStats put_stats() const;

  // Test seam: puts use `ops` from the next batch on (e.g. FailingFileOps to inject ENOSPC).
  void set_file_ops_for_test(std::shared_ptr<FileOps> ops);

 private:
  struct Target;
  struct Job;
  void submit(std::unique_ptr<Job> job);
  void writer_loop();
  void write_batch(FileOps& ops, std::vector<std::unique_ptr<Job>>& batch);
  void clean_at_startup();

  std::filesystem::path dir_;
  std::filesystem::path tmp_dir_;
  QueueView view_;
  // Runs a batch's fdatasyncs concurrently (see write_batch).
  boost::asio::thread_pool sync_pool_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> pending_;
  std::shared_ptr<FileOps> ops_;
  PutStats stats_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point space_checked_{};
  uint64_t space_available_ = 0;
  std::thread writer_;  // last: started once everything above exists
};

}  // namespace hk::queue
