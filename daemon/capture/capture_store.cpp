// CaptureStore: the durable capture folder, its index, trimming, removal, release, wait and the
// live events (capture_store.hpp).
#include "daemon/capture/capture_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include "daemon/capture/index.hpp"
#include "daemon/capture/summary.hpp"
#include "daemon/queue/queue_store.hpp"
#include "lib/base/files.hpp"
#include "lib/base/log.hpp"
#include "lib/base/offload.hpp"
#include "lib/base/text.hpp"
#include "lib/smtp/address.hpp"

namespace hk::capture {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "capture"; }
  std::string message(int ev) const override {
    switch (static_cast<Error>(ev)) {
      case Error::UnknownId:
        return "no captured message with that ID";
      case Error::BadAddress:
        return "not a valid recipient address";
      case Error::RecipientRefused:
        return "recipient refused";
      case Error::NoRecipients:
        return "no recipients to release to";
      case Error::Busy:
        return "the message is being released already";
    }
    return "capture error " + std::to_string(ev);
  }
};

// Startup reads files with this many threads at most: the work is open/read/parse per file, and
// the daemon's host may be small.
constexpr unsigned kMaxLoadThreads = 4;

}  // namespace

const std::error_category& capture_category() {
  static const Category c;
  return c;
}

std::error_code make_error_code(Error e) { return {static_cast<int>(e), capture_category()}; }

// The subscribers; shared with the Subscriptions, which may outlive the store.
struct CaptureStore::Subscription::Hub {
  uint64_t next = 1;
  std::map<uint64_t, std::shared_ptr<Subscriber>> subscribers;
};

CaptureStore::Subscription::~Subscription() {
  if (auto hub = hub_.lock()) {
    hub->subscribers.erase(key_);
  }
}

namespace {

// One wait() in progress; it lives in the waiting coroutine's frame.
struct Waiter {
  Query query;
  queue::TimePoint since;
  asio::steady_timer* timer = nullptr;
  SummaryPtr result;
  bool done = false;
};

// The waiters, shared with their coroutines so that a frame destroyed after the store (the
// io_context torn down later) still unregisters safely.
struct WaitList {
  std::vector<Waiter*> waiters;
};

// Removes a waiter from the list on every way out of wait(), including the frame's destruction.
struct WaitRegistration {
  std::shared_ptr<WaitList> list;
  Waiter* waiter;
  ~WaitRegistration() { std::erase(list->waiters, waiter); }
};

}  // namespace

struct CaptureStore::Impl {
  Impl(asio::any_io_executor e, fs::path d, Options o, queue::QueueStore& q, Enqueued en)
      : ex(std::move(e)), options(o), store(std::move(d)), queue(q), enqueued(std::move(en)) {}

  ~Impl() {
    // Every wait() resolves with null; the unlinks already asked for are finished.
    for (Waiter* w : waiters->waiters) {
      w->done = true;
      w->timer->cancel();
    }
    janitor.join();
  }

  void load();
  void notify(Event::Kind kind, const SummaryPtr& s);
  void added(const SummaryPtr& s);
  void removed(std::vector<SummaryPtr> gone, const char* reason);
  void trim();
  void unlink_later(std::vector<std::string> ids);

  struct Loaded {
    std::error_code ec;
    queue::Envelope env;
    std::string message;
  };
  std::vector<queue::Recipient> release_targets(const std::vector<std::string>& rcpts,
                                                Released& out) const;
  Loaded load_for_release(const std::string& id) const;
  bool prepare_release(queue::Envelope& env, std::vector<queue::Recipient> targets);
  void finish_release(const std::string& id, const queue::Envelope& env);

  asio::any_io_executor ex;
  Options options;
  queue::QueueStore store;
  queue::QueueStore& queue;
  Enqueued enqueued;
  RecipientResolver resolver;
  Index index;
  LoadStats stats;
  std::shared_ptr<Subscription::Hub> hub = std::make_shared<Subscription::Hub>();
  std::shared_ptr<WaitList> waiters = std::make_shared<WaitList>();
  std::set<std::string> releasing;
  // Unlinks of removed messages and the reads of releases, off the I/O thread; one thread, so
  // that unlinks happen in the order asked.
  asio::thread_pool janitor{1};
};

void CaptureStore::Impl::load() {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> ids = store.list();
  // Files are read and summarised in parallel, each thread into its own slots; the index is then
  // filled in order (IDs are sorted, so every insert is an append).
  std::vector<std::optional<Entry>> slots(ids.size());
  unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxLoadThreads);
  if (ids.size() < 1000) {
    threads = 1;
  }
  auto work = [&](size_t first, size_t step) {
    std::string head;
    for (size_t i = first; i < ids.size(); i += step) {
      queue::Envelope env;
      uint64_t size = 0;
      std::error_code ec = read_stored(store.message_path(ids[i]), ids[i], env, head, size);
      if (ec) {
        // Left in place: a file we cannot read is evidence, not garbage.
        base::log_warn() << "capture id=" << ids[i]
                         << " result=skipped error=" << base::log_quote(ec.message())
                         << " file=" << base::log_quote(store.message_path(ids[i]).string());
        continue;
      }
      slots[i] = make_entry(std::make_shared<const Summary>(summarize(env, head, size)));
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    pool.emplace_back(work, t, threads);
  }
  work(0, threads);
  for (std::thread& t : pool) {
    t.join();
  }
  for (std::optional<Entry>& e : slots) {
    if (e) {
      index.insert(std::move(*e));
      ++stats.loaded;
    } else {
      ++stats.skipped;
    }
  }
  stats.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  base::log_info() << "capture loaded=" << stats.loaded << " skipped=" << stats.skipped
                   << " ms=" << stats.took.count()
                   << " dir=" << base::log_quote(store.dir().string());
}

void CaptureStore::Impl::notify(Event::Kind kind, const SummaryPtr& s) {
  if (hub->subscribers.empty()) {
    return;
  }
  // A subscriber may unsubscribe (itself or another) while being told: call a snapshot, and skip
  // those that have gone meanwhile.
  std::vector<std::pair<uint64_t, std::shared_ptr<Subscriber>>> now(hub->subscribers.begin(),
                                                                    hub->subscribers.end());
  Event ev{kind, s};
  for (auto& [key, fn] : now) {
    if (hub->subscribers.contains(key)) {
      (*fn)(ev);
    }
  }
}

void CaptureStore::Impl::added(const SummaryPtr& s) {
  notify(Event::Kind::Added, s);
  for (Waiter* w : waiters->waiters) {
    if (!w->done && s->created >= w->since && matches(w->query, make_entry(s).haystack())) {
      w->done = true;
      w->result = s;
      w->timer->cancel();
    }
  }
}

void CaptureStore::Impl::removed(std::vector<SummaryPtr> gone, const char* reason) {
  std::vector<std::string> ids;
  ids.reserve(gone.size());
  for (const SummaryPtr& s : gone) {
    if (reason != nullptr) {
      base::log_info() << "capture id=" << s->id << " result=dropped reason=" << reason;
    }
    ids.push_back(s->id);
  }
  unlink_later(std::move(ids));
  for (const SummaryPtr& s : gone) {
    notify(Event::Kind::Removed, s);
  }
}

void CaptureStore::Impl::trim() {
  if (options.max_messages == 0 || index.size() <= options.max_messages) {
    return;
  }
  std::vector<SummaryPtr> gone;
  while (index.size() > options.max_messages) {
    gone.push_back(index.pop_oldest());
  }
  removed(std::move(gone), "max_messages");
}

void CaptureStore::Impl::unlink_later(std::vector<std::string> ids) {
  if (ids.empty()) {
    return;
  }
  asio::post(janitor, [this, ids = std::move(ids)] {
    for (const std::string& id : ids) {
      fs::path msg = store.message_path(id);
      if (::unlink(msg.c_str()) != 0 && errno != ENOENT) {
        base::log_warn() << "capture id=" << id << " unlink_failed error="
                         << base::log_quote(std::generic_category().message(errno));
      }
      fs::path state = store.view().state_path(id);
      ::unlink(state.c_str());  // there is none unless someone made one
    }
    if (std::error_code ec = base::fsync_dir(store.dir())) {
      base::log_warn() << "capture fsync_dir_failed error=" << base::log_quote(ec.message());
    }
  });
}

CaptureStore::CaptureStore(asio::any_io_executor ex, fs::path dir, Options options,
                           queue::QueueStore& queue, Enqueued enqueued) {
  try {
    impl_ = std::make_unique<Impl>(std::move(ex), dir, options, queue, std::move(enqueued));
  } catch (const std::exception& e) {
    throw std::runtime_error("capture folder " + dir.string() + ": " + e.what());
  }
  impl_->load();
  impl_->trim();  // a smaller max_messages while the daemon was stopped
}

CaptureStore::~CaptureStore() = default;

void CaptureStore::reconfigure(const Options& options) {
  impl_->options = options;
  impl_->trim();
}

void CaptureStore::set_recipient_resolver(RecipientResolver resolver) {
  impl_->resolver = std::move(resolver);
}

CaptureStore::LoadStats CaptureStore::load_stats() const { return impl_->stats; }

asio::awaitable<std::error_code> CaptureStore::put(queue::Envelope& env,
                                                   const queue::MessageData& message) {
  if (env.id.empty()) {
    env.id = queue::QueueStore::new_id();
  }
  if (env.created == queue::TimePoint{}) {
    env.created = std::chrono::system_clock::now();
  }
  // The summary is made from the bytes in hand before the write, so that a spool read error
  // refuses the message instead of indexing half of it.
  std::string head;
  if (std::error_code ec = message_head(message, head)) {
    co_return ec;
  }
  Impl& impl = *impl_;
  if (std::error_code ec = co_await impl.store.put(env, message)) {
    co_return ec;
  }
  auto s = std::make_shared<const Summary>(summarize(env, head, message.size()));
  impl.index.insert(make_entry(s));
  impl.added(s);
  impl.trim();
  co_return std::error_code{};
}

size_t CaptureStore::size() const { return impl_->index.size(); }
size_t CaptureStore::unread() const { return impl_->index.unread(); }

std::vector<SummaryPtr> CaptureStore::list(size_t offset, size_t limit, size_t& total) const {
  return impl_->index.list(offset, limit, total);
}

std::vector<SummaryPtr> CaptureStore::search(const Query& q, size_t offset, size_t limit,
                                             size_t& total) const {
  return impl_->index.search(q, offset, limit, total);
}

SummaryPtr CaptureStore::find(const std::string& id) const { return impl_->index.find(id); }

std::error_code CaptureStore::raw(const std::string& id, std::string& out) const {
  if (!impl_->index.find(id)) {
    return Error::UnknownId;
  }
  return impl_->store.read_message(id, out);
}

std::error_code CaptureStore::envelope(const std::string& id, queue::Envelope& env) const {
  if (!impl_->index.find(id)) {
    return Error::UnknownId;
  }
  return impl_->store.load_envelope(id, env);
}

void CaptureStore::mark_read(const std::string& id, bool read) {
  if (SummaryPtr s = impl_->index.set_read(id, read)) {
    impl_->notify(Event::Kind::Read, s);
  }
}

size_t CaptureStore::remove(const std::vector<std::string>& ids) {
  std::vector<SummaryPtr> gone = impl_->index.erase(ids);
  size_t n = gone.size();
  for (const SummaryPtr& s : gone) {
    base::log_info() << "capture id=" << s->id << " result=deleted";
  }
  impl_->removed(std::move(gone), nullptr);
  return n;
}

size_t CaptureStore::remove_all() {
  std::vector<SummaryPtr> gone = impl_->index.clear();
  size_t n = gone.size();
  base::log_info() << "capture result=deleted_all count=" << n;
  impl_->removed(std::move(gone), nullptr);
  return n;
}

// Checks and resolves the addresses of a release before anything is written; sets out.ec and
// out.detail on the first bad one.
std::vector<queue::Recipient> CaptureStore::Impl::release_targets(
    const std::vector<std::string>& rcpts, Released& out) const {
  std::vector<queue::Recipient> targets;
  for (const std::string& given : rcpts) {
    std::string_view a = base::trim(given, " \t\r\n");
    std::string path = !a.empty() && a.front() == '<' ? std::string(a) : "<" + std::string(a) + ">";
    smtp::PathResult p = smtp::parse_path(path, smtp::PathKind::Forward);
    std::string why;
    if (!p) {
      why = p.error.lines.empty() ? "bad syntax" : p.error.lines.front();
    } else if (p.value.domain.empty()) {
      why = "an address needs a domain";
    } else if (p.value.literal) {
      why = "address literals are not accepted";
    }
    if (!why.empty()) {
      out.ec = Error::BadAddress;
      out.detail = base::log_quote(given) + ": " + why;
      return {};
    }
    std::string address = p.value.str();
    std::vector<queue::Recipient> resolved;
    if (resolver) {
      std::string error;
      resolved = resolver(address, error);
      if (resolved.empty()) {
        out.ec = Error::RecipientRefused;
        out.detail = address + ": " + (error.empty() ? "refused" : error);
        return {};
      }
    } else {
      queue::Recipient r;
      r.address = address;
      r.original = address;
      resolved.push_back(std::move(r));
    }
    for (queue::Recipient& r : resolved) {
      targets.push_back(std::move(r));
    }
  }
  return targets;
}

// The queue's copy of a captured message: new ID and time, the chosen recipients (or its own,
// their states reset). False when there is nobody to send it to.
bool CaptureStore::Impl::prepare_release(queue::Envelope& env,
                                         std::vector<queue::Recipient> targets) {
  if (targets.empty()) {
    // The message's own recipients, as they were resolved when it was captured.
    for (const queue::Recipient& r : env.rcpts) {
      queue::Recipient fresh;
      fresh.address = r.address;
      fresh.original = r.original;
      fresh.local = r.local;
      fresh.sender = r.sender;
      targets.push_back(std::move(fresh));
    }
  }
  if (targets.empty()) {
    return false;
  }
  env.rcpts = std::move(targets);
  env.id = queue::QueueStore::new_id();
  env.created = std::chrono::system_clock::now();
  env.delay_warned = {};
  return true;
}

void CaptureStore::Impl::finish_release(const std::string& id, const queue::Envelope& env) {
  base::log_info() << "capture id=" << id << " result=released queue_id=" << env.id
                   << " rcpts=" << env.rcpts.size();
  if (enqueued) {
    enqueued(env);
  }
  // It may have been deleted or dropped meanwhile; then there is nothing left to remove.
  std::vector<std::string> ids(1, id);
  removed(index.erase(ids), nullptr);
  releasing.erase(id);
}

CaptureStore::Impl::Loaded CaptureStore::Impl::load_for_release(const std::string& id) const {
  Loaded l;
  l.ec = store.load(id, l.env, l.message);
  if (l.ec == std::errc::no_such_file_or_directory) {
    l.ec = Error::UnknownId;
  }
  return l;
}

// The work is in plain member functions; the coroutine only sequences it.
asio::awaitable<CaptureStore::Released> CaptureStore::release(const std::string& id,
                                                              std::vector<std::string> rcpts) {
  Impl& impl = *impl_;
  std::string key = id;
  Released out;
  if (!impl.index.find(key)) {
    out.ec = Error::UnknownId;
    out.detail = key;
    co_return out;
  }
  if (impl.releasing.contains(key)) {
    out.ec = Error::Busy;
    co_return out;
  }
  std::vector<queue::Recipient> targets = impl.release_targets(rcpts, out);
  if (out.ec) {
    co_return out;
  }
  impl.releasing.insert(key);
  // Captures by reference only: GCC 12 destroys a lambda temporary's copied captures twice here.
  Impl::Loaded loaded =
      co_await base::offload(impl.janitor, [&impl, &key] { return impl.load_for_release(key); });
  if (!loaded.ec && !impl.prepare_release(loaded.env, std::move(targets))) {
    loaded.ec = Error::NoRecipients;
  }
  if (!loaded.ec) {
    loaded.ec = co_await impl.queue.put(loaded.env, loaded.message);
    if (loaded.ec) {
      base::log_warn() << "capture id=" << key
                       << " result=release_failed error=" << base::log_quote(loaded.ec.message());
    }
  }
  if (loaded.ec) {
    impl.releasing.erase(key);
    out.ec = loaded.ec;
    co_return out;
  }
  out.queue_id = loaded.env.id;
  impl.finish_release(key, loaded.env);
  co_return out;
}

asio::awaitable<SummaryPtr> CaptureStore::wait(Query q, queue::TimePoint since,
                                               std::chrono::milliseconds timeout) {
  if (SummaryPtr s = impl_->index.newest_match(q, since)) {
    co_return s;
  }
  if (timeout <= std::chrono::milliseconds::zero()) {
    co_return nullptr;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  Waiter w;
  w.query = std::move(q);
  w.since = since;
  w.timer = &timer;
  WaitRegistration reg{impl_->waiters, &w};
  reg.list->waiters.push_back(&w);
  // Ends at the timeout, when a put (or the store's destruction) cancels the timer, or when the
  // caller's operation is cancelled; `this` is not touched after it.
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return w.result;
}

std::unique_ptr<CaptureStore::Subscription> CaptureStore::subscribe(Subscriber fn) {
  Subscription::Hub& hub = *impl_->hub;
  uint64_t key = hub.next++;
  hub.subscribers.emplace(key, std::make_shared<Subscriber>(std::move(fn)));
  return std::make_unique<Subscription>(impl_->hub, key);
}

}  // namespace hk::capture
