// QueueStore: message files, state sidecars and the group-commit writer thread.
#include "daemon/queue/queue_store.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <latch>
#include <limits>
#include <random>

#include "daemon/queue/maildir.hpp"
#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/base/log.hpp"
#include "lib/queue/queue_file.hpp"

namespace hk::queue {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

using base::errno_code;

// Files open at once in one batch are bounded so that a burst cannot exhaust descriptors; the
// rest waits for the next batch, which starts as soon as this one is durable.
constexpr size_t kMaxBatch = 128;
// fdatasyncs in flight at once for one batch (see write_batch).
constexpr size_t kSyncThreads = 8;

void make_private_dir(const fs::path& p) {
  if (fs::is_directory(p)) {
    return;
  }
  fs::create_directories(p);
  fs::permissions(p, fs::perms::owner_all);
  base::fsync_dir(p.parent_path());
}

std::error_code unlink_path(const fs::path& p) {
  return ::unlink(p.c_str()) == 0 ? std::error_code{} : errno_code();
}

}  // namespace

// The caller's completion handler, type-erased, with work counted on its executor so that the
// io_context keeps running until the put completes there.
class Completion {
 public:
  virtual ~Completion() = default;
  // Called on the writer thread: resumes the caller on its own executor.
  virtual void complete(std::error_code ec) = 0;
};

template <class Handler>
class CompletionFor final : public Completion {
 public:
  explicit CompletionFor(Handler h)
      : handler_(std::move(h)),
        work_(asio::make_work_guard(asio::get_associated_executor(handler_))) {}

  void complete(std::error_code ec) override {
    auto ex = work_.get_executor();
    asio::post(ex, [h = std::move(handler_), ec]() mutable { std::move(h)(ec); });
    work_.reset();
  }

 private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler>> work_;
};

// One file of a group commit: written under `tmp`, renamed to `final` once synced.
struct QueueStore::Target {
  fs::path tmp;
  fs::path final;
  std::string header;  // written before the message
  int fd = -1;
  bool created = false;  // tmp is ours to unlink
  bool renamed = false;  // final exists and is ours to take back
};

// One put: the queue file, or (deliver_local) one Maildir copy per recipient.
struct QueueStore::Job {
  std::string id;
  MessageData message;
  std::vector<Target> targets;
  // deliver_local only: the copies are prepared on the writer thread (it creates folders).
  const Envelope* local_env = nullptr;
  fs::path mail_dir;
  std::string hostname;
  std::error_code ec;
  std::unique_ptr<Completion> done;
};

QueueStore::QueueStore(fs::path queue_dir)
    : dir_(std::move(queue_dir)),
      tmp_dir_(dir_ / "tmp"),
      view_(dir_),
      sync_pool_(kSyncThreads),
      ops_(std::make_shared<FileOps>()) {
  make_private_dir(dir_);
  make_private_dir(tmp_dir_);
  clean_at_startup();
  writer_ = std::thread([this] { writer_loop(); });
}

QueueStore::~QueueStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

std::string QueueStore::new_id() {
  // Crockford's base32 alphabet is in ASCII order, so IDs compare like their timestamps.
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  uint64_t random = rng();
  std::string id(19, '0');
  for (size_t i = 11; i-- > 0;) {  // 55 bits of microseconds: good until the year 3111
    id[i] = kAlphabet[us & 31];
    us >>= 5;
  }
  for (size_t i = 19; i-- > 11;) {  // 40 random bits
    id[i] = kAlphabet[random & 31];
    random >>= 5;
  }
  return id;
}

asio::awaitable<std::error_code> QueueStore::put(const Envelope& env, std::string_view message) {
  co_return co_await put(env, MessageData{.head = {}, .body = message});
}

asio::awaitable<std::error_code> QueueStore::put(const Envelope& env, const MessageData& message) {
  if (!valid_id(env.id)) {
    co_return std::make_error_code(std::errc::invalid_argument);
  }
  auto job = std::make_unique<Job>();
  job->id = env.id;
  job->message = message;
  Target t;
  t.tmp = tmp_dir_ / env.id;
  t.final = message_path(env.id);
  t.header = encode_header(env);
  job->targets.push_back(std::move(t));
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::error_code)>(
      [this](auto handler, std::unique_ptr<Job> j) {
        j->done = std::make_unique<CompletionFor<decltype(handler)>>(std::move(handler));
        submit(std::move(j));
      },
      asio::use_awaitable, std::move(job));
}

asio::awaitable<std::error_code> QueueStore::deliver_local(const Envelope& env,
                                                           const MessageData& message,
                                                           const fs::path& mail_dir,
                                                           const std::string& hostname) {
  auto job = std::make_unique<Job>();
  job->id = env.id;
  job->message = message;
  job->local_env = &env;  // the caller is suspended until completion: the envelope stays put
  job->mail_dir = mail_dir;
  job->hostname = hostname;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::error_code)>(
      [this](auto handler, std::unique_ptr<Job> j) {
        j->done = std::make_unique<CompletionFor<decltype(handler)>>(std::move(handler));
        submit(std::move(j));
      },
      asio::use_awaitable, std::move(job));
}

void QueueStore::submit(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.push_back(std::move(job));
    }
  }
  if (job) {
    // The store is being destroyed: refuse rather than leave the caller suspended forever.
    job->done->complete(std::make_error_code(std::errc::operation_canceled));
    return;
  }
  wake_.notify_one();
}

void QueueStore::writer_loop() {
  std::vector<std::unique_ptr<Job>> batch;
  for (;;) {
    std::shared_ptr<FileOps> ops;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) {
        return;  // stopping, and every put already started has completed
      }
      while (!pending_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      ops = ops_;
    }
    write_batch(*ops, batch);
    {
      std::lock_guard lock(mutex_);
      stats_.puts += batch.size();
      stats_.batches += 1;
      stats_.max_batch = std::max(stats_.max_batch, batch.size());
    }
    for (auto& job : batch) {
      job->done->complete(job->ec);
    }
    batch.clear();
  }
}

// One group commit. Every file is written (and its writeback started) before any is synced. The
// fdatasyncs then run concurrently on sync_pool_: on ext4 (and other journalling file systems)
// syncs that are in flight together join one journal commit and one disk cache flush, whereas
// syncs issued one after the other each pay a flush of their own even when the first commit has
// already carried their data (measured: 50 files, 170 ms one after the other, 15-30 ms together).
// One directory fsync then makes all the renames durable at once.
void QueueStore::write_batch(FileOps& ops, std::vector<std::unique_ptr<Job>>& batch) {
  // A job fails as a whole: every file of it is taken back, written, synced or renamed.
  auto fail = [&ops](Job& job, std::error_code ec) {
    for (Target& t : job.targets) {
      if (t.fd >= 0) {
        ops.close(t.fd);
        t.fd = -1;
      }
      if (t.created) {
        ::unlink(t.tmp.c_str());
        t.created = false;
      }
      if (t.renamed) {
        ::unlink(t.final.c_str());
        t.renamed = false;
      }
    }
    if (!job.ec) {
      job.ec = ec;
    }
  };

  for (auto& job : batch) {
    if (job->local_env != nullptr) {
      for (const Recipient& r : job->local_env->rcpts) {
        MaildirCopy copy;
        if (std::error_code ec =
                prepare_maildir_copy(job->mail_dir, r.address, job->local_env->from,
                                     job->message.size(), job->hostname, copy)) {
          job->ec = ec;
          break;
        }
        Target t;
        t.tmp = copy.box / "tmp" / copy.name;
        t.final = copy.box / "new" / copy.name;
        t.header = std::move(copy.head);
        job->targets.push_back(std::move(t));
      }
    }
    for (Target& t : job->targets) {
      if (job->ec) {
        break;
      }
      std::error_code ec = ops.open(t.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, t.fd);
      if (ec) {
        t.fd = -1;
        fail(*job, ec);
        break;
      }
      t.created = true;
      // The header block, our header fields and a body in memory go out in one writev; a
      // spooled body is then copied from its file without passing through user space.
      const MessageData& m = job->message;
      const std::string_view parts[] = {t.header, m.head, m.body};
      if ((ec = ops.write_parts(t.fd, parts)) ||
          (m.body_fd >= 0 && (ec = ops.copy(t.fd, m.body_fd, m.body_size)))) {
        fail(*job, ec);
        break;
      }
      // Start the writeback now, so that the whole batch's data is on its way by the first sync.
      ::sync_file_range(t.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    }
  }

  // Each target is synced by exactly one task; the latch orders their effects before ours.
  struct SyncTask {
    Job* job;
    Target* target;
    std::error_code ec;
  };
  std::vector<SyncTask> tasks;
  for (auto& job : batch) {
    for (Target& t : job->targets) {
      if (!job->ec && t.fd >= 0) {
        tasks.push_back({job.get(), &t, {}});
      }
    }
  }
  auto sync_one = [&ops](SyncTask& task) {
    std::error_code ec = ops.sync(task.target->fd);
    std::error_code close_ec = ops.close(task.target->fd);
    task.target->fd = -1;
    task.ec = ec ? ec : close_ec;
  };
  if (tasks.size() == 1) {
    sync_one(tasks.front());
  } else if (!tasks.empty()) {
    std::latch left(static_cast<std::ptrdiff_t>(tasks.size()));
    for (SyncTask& task : tasks) {
      asio::post(sync_pool_, [&sync_one, &left, &task] {
        sync_one(task);
        left.count_down();
      });
    }
    left.wait();
  }
  for (SyncTask& task : tasks) {
    if (task.ec) {
      fail(*task.job, task.ec);
    }
  }

  // Renames, then one fsync per directory that received a file.
  std::vector<fs::path> dirs;
  for (auto& job : batch) {
    for (Target& t : job->targets) {
      if (job->ec) {
        break;
      }
      if (std::error_code ec = ops.rename_noreplace(t.tmp, t.final)) {
        fail(*job, ec);
        break;
      }
      t.created = false;
      t.renamed = true;
      fs::path dir = t.final.parent_path();
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
        dirs.push_back(std::move(dir));
      }
    }
  }
  // The directory fsyncs run together too, for the same reason as the file syncs.
  std::vector<std::error_code> dir_ec(dirs.size());
  if (dirs.size() == 1) {
    dir_ec[0] = ops.sync_dir(dirs[0]);
  } else if (!dirs.empty()) {
    std::latch left(static_cast<std::ptrdiff_t>(dirs.size()));
    for (size_t i = 0; i < dirs.size(); ++i) {
      asio::post(sync_pool_, [&ops, &left, &dirs, &dir_ec, i] {
        dir_ec[i] = ops.sync_dir(dirs[i]);
        left.count_down();
      });
    }
    left.wait();
  }
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (std::error_code ec = dir_ec[i]) {
      // Not durable, so not accepted: take the job's files back out so that nothing is
      // delivered that the client was told failed.
      for (auto& job : batch) {
        for (const Target& t : job->targets) {
          if (t.renamed && t.final.parent_path() == dirs[i]) {
            fail(*job, ec);
            break;
          }
        }
      }
      base::fsync_dir(dirs[i]);
    }
  }

  for (auto& job : batch) {
    if (job->ec) {
      base::log_warn() << "id=" << job->id
                       << " queue_write_failed error=" << base::log_quote(job->ec.message());
    }
  }
}

void QueueStore::clean_at_startup() {
  bool removed = false;
  for (const fs::directory_entry& e : fs::directory_iterator(tmp_dir_)) {
    base::log_info() << "queue: removing incomplete " << base::log_quote(e.path().string());
    fs::remove_all(e.path());
    removed = true;
  }
  if (removed) {
    base::fsync_dir(tmp_dir_);
  }
  removed = false;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    bool stale_tmp = name.find(".tmp.") != std::string::npos;  // interrupted write_file_atomic
    bool orphan_state = false;
    if (name.ends_with(kStateSuffix)) {
      std::string id = name.substr(0, name.size() - kStateSuffix.size());
      orphan_state = valid_id(id) && !fs::exists(message_path(id));  // interrupted remove()
    }
    if (stale_tmp || orphan_state) {
      base::log_info() << "queue: removing leftover " << base::log_quote(e.path().string());
      fs::remove(e.path());
      removed = true;
    }
  }
  if (removed) {
    base::fsync_dir(dir_);
  }
}

std::vector<std::string> QueueStore::list() const {
  std::vector<std::string> ids;
  if (std::error_code ec = view_.list(ids)) {
    base::log_error() << "queue: cannot list " << base::log_quote(dir_.string())
                      << " error=" << base::log_quote(ec.message());
  }
  return ids;
}

std::error_code QueueStore::load_envelope(const std::string& id, Envelope& env) const {
  return view_.load_envelope(id, env);
}

std::error_code QueueStore::read_message(const std::string& id, std::string& message) const {
  Envelope env;
  return view_.load(id, env, message);
}

std::error_code QueueStore::load(const std::string& id, Envelope& env, std::string& message) const {
  return view_.load(id, env, message);
}

std::error_code QueueStore::save_state(const Envelope& env) {
  if (!valid_id(env.id)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  return base::write_file_atomic(view_.state_path(env.id), encode_state(env), 0600);
}

std::error_code QueueStore::remove(const std::string& id) {
  if (!valid_id(id)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  // The message first: a crash between the two unlinks leaves an orphan .state, which startup
  // removes, rather than a message whose delivered recipients would be delivered again.
  std::error_code ec = unlink_path(message_path(id));
  std::error_code state_ec = unlink_path(view_.state_path(id));
  if (state_ec == std::errc::no_such_file_or_directory) {
    state_ec.clear();
  }
  // No directory fsync: a removal is only ever done after the message was delivered durably, so
  // the worst a crash can do is bring back a delivered message, which is then delivered again
  // (at least once, never lost). One fsync less per message is worth that rare duplicate.
  return ec ? ec : state_ec;
}

fs::path QueueStore::message_path(const std::string& id) const { return view_.message_path(id); }

uint64_t QueueStore::available_bytes() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (now - space_checked_ >= std::chrono::seconds(1) ||
      space_checked_ == std::chrono::steady_clock::time_point{}) {
    struct statvfs st {};
    space_available_ = ::statvfs(dir_.c_str(), &st) == 0
                           ? static_cast<uint64_t>(st.f_bavail) * st.f_frsize
                           : std::numeric_limits<uint64_t>::max();
    space_checked_ = now;
  }
  return space_available_;
}

PutStats QueueStore::put_stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void QueueStore::set_file_ops_for_test(std::shared_ptr<FileOps> ops) {
  std::lock_guard lock(mutex_);
  ops_ = std::move(ops);
}

}  // namespace hk::queue
