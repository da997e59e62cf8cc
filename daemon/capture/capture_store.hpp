// CaptureStore: captured mail (capture mode, docs/capture.md). A message accepted from a trusted
// network while [capture] is enabled is stored here instead of being delivered: durably, like
// the queue (the files are written by a QueueStore rooted at DATA_DIR/capture, fsynced before
// the 250), and indexed in memory for the console and /api/v1 (list newest first, search, wait,
// live events). A captured message can be released into the real queue, to its own recipients
// or to others, and is then delivered like any other (MX or relay, retries, DSNs).
//
// Threading: every member runs on the executor given to the constructor (the daemon's I/O
// thread); disk work that may block is offloaded where it matters.
//
// OWNER: the capture-store engineer. Others code against this header and must not change it;
// the owner may add to it (keep what is here, with these meanings).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "lib/mime/mime.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::queue {
class QueueStore;
struct MessageData;
}  // namespace hk::queue

namespace hk::capture {

// What the list, search and wait show of one message; kept in memory for every stored message.
struct Summary {
  std::string id;  // the store's id (a queue-style id: sortable by arrival, safe in a URL)
  queue::TimePoint created;
  std::string message_id;  // the Message-ID header without angle brackets; "" when none
  mime::Address from;      // the From: header (decoded)
  std::vector<mime::Address> to, cc, reply_to;
  std::vector<mime::Address> bcc;  // envelope recipients named in no To/Cc header
  std::string envelope_from;       // MAIL FROM; "" = <>
  std::vector<std::string> envelope_to;
  std::string subject;  // decoded
  std::string snippet;  // mime::snippet
  size_t size = 0;      // bytes of the stored message
  size_t attachments = 0;
  bool read = false;  // opened in the console or fetched through /api/v1/message/{ID}
};
using SummaryPtr = std::shared_ptr<const Summary>;

// A search (Mailpit's syntax, the common part): space-separated terms, all of which must match;
// "quoted phrases"; a leading '-' negates a term; field terms from:, to: (To, Cc, Bcc and the
// envelope), subject:, message-id:, is:read / is:unread, has:attachment; a bare term matches
// from, to, subject and the snippet. Case-insensitive.
//
// Details (query.cpp): a term is a substring test, except message-id: (the whole ID, angle
// brackets optional). from: looks at the From header's name and address and at MAIL FROM; to:
// at the names and addresses of To and Cc, the Bcc and the envelope recipients. A field's value
// may be quoted (subject:"two words"); a quoted term is always a bare term, so "a:b" searches for
// the text a:b. Case is folded for ASCII and for the Latin, Greek and Cyrillic letters of
// Unicode's first 0x500 code points ("Über" finds "über"). Errors, with the offending term: an
// unterminated quote, an unknown field (e.g. "foo:bar"; quote it to search the text), a field
// without a value ("from:"), is: other than read/unread, has: other than attachment, a lone '-'.
struct Query {
  struct Term {
    std::string field;  // "" (anywhere), "from", "to", "subject", "message-id", "is", "has"
    std::string value;  // lower case
    bool negated = false;
  };
  std::vector<Term> terms;  // empty: everything matches
};
// Parses a query; bad syntax (an unterminated quote, an unknown field) is an error message.
std::optional<Query> parse_query(std::string_view text, std::string& error);
bool matches(const Query& q, const Summary& s);

// Error codes of CaptureStore (category "capture"); their messages are fit for an API reply.
enum class Error {
  UnknownId = 1,     // no captured message has that ID
  BadAddress,        // a release address is not a valid mailbox (Released::detail names it)
  RecipientRefused,  // the recipient resolver refused an address (Released::detail says why)
  NoRecipients,      // nothing to release to
  Busy,              // the message is being released already
};
const std::error_category& capture_category();
std::error_code make_error_code(Error e);

// A change the console's live view is told about. remove_all() reports one Removed per message.
struct Event {
  enum class Kind { Added, Removed, Read };
  Kind kind;
  SummaryPtr message;  // for Removed: the summary it had
};

class CaptureStore {
 public:
  struct Options {
    // The most messages kept; beyond it the oldest are dropped (and logged) as new ones arrive.
    // 0: no limit.
    size_t max_messages = 10000;
  };
  // Called when a released message has been durably queued, so that the runner schedules it
  // (Queue::enqueued in the daemon).
  using Enqueued = std::function<void(queue::Envelope)>;
  // What one release address ("local@domain", syntax already checked) stands for in the queue:
  // local mailboxes with `local` set and aliases resolved, or the remote address itself. An empty
  // result refuses the release, with `error` saying why (e.g. no such user in a local domain).
  // The Server supplies one that knows the domains; the default makes every address remote.
  using RecipientResolver =
      std::function<std::vector<queue::Recipient>(const std::string& address, std::string& error)>;

  // Opens (creating when missing) `dir` and rebuilds the index from the stored messages.
  // Throws std::runtime_error naming the folder when it cannot.
  // The rebuild reads the head of every stored file (up to 64 KiB each) on up to four threads:
  // about 1 s of CPU per 50,000 messages (docs/capture-store.md).
  CaptureStore(boost::asio::any_io_executor ex, std::filesystem::path dir, Options options,
               queue::QueueStore& queue, Enqueued enqueued);
  // Destroy it once no put or release is in progress (the daemon stops its sessions and the
  // console first): those resume on the store. Waits resolve with null; Subscriptions may outlive
  // it. Removed files still waiting to be unlinked are unlinked before it returns.
  ~CaptureStore();
  CaptureStore(const CaptureStore&) = delete;
  CaptureStore& operator=(const CaptureStore&) = delete;

  // New limits (a reload); a smaller max_messages drops the oldest at once.
  void reconfigure(const Options& options);
  void set_recipient_resolver(RecipientResolver resolver);

  // What the startup scan found, for the log, the benchmark and the tests.
  struct LoadStats {
    size_t loaded = 0;   // messages indexed
    size_t skipped = 0;  // files that could not be read or parsed (logged, left in place)
    std::chrono::milliseconds took{0};
  };
  LoadStats load_stats() const;

  // Stores a message durably (completes after the fsyncs), indexes it, tells subscribers, then
  // drops the oldest beyond max_messages. env.id is set here when empty. On error nothing is
  // stored and the error is returned (the session answers 451).
  boost::asio::awaitable<std::error_code> put(queue::Envelope& env,
                                              const queue::MessageData& message);

  size_t size() const;
  size_t unread() const;  // how many have read == false
  // Newest first; `total` is how many there are (the list) or how many matched (the search).
  std::vector<SummaryPtr> list(size_t offset, size_t limit, size_t& total) const;
  std::vector<SummaryPtr> search(const Query& q, size_t offset, size_t limit, size_t& total) const;
  SummaryPtr find(const std::string& id) const;  // null when unknown
  // The stored bytes of the message (as accepted, with our Received header).
  std::error_code raw(const std::string& id, std::string& out) const;
  std::error_code envelope(const std::string& id, queue::Envelope& env) const;
  // The read flag lives in memory only: after a restart every message reads as unread again.
  // Tells subscribers (Event::Kind::Read) when the flag changes.
  void mark_read(const std::string& id, bool read = true);

  // Removes the given messages (unknown IDs are skipped); returns how many were removed. The
  // index changes at once; the files are unlinked on a background thread (one directory fsync per
  // batch), so that deleting 100,000 messages never stalls the I/O thread.
  size_t remove(const std::vector<std::string>& ids);
  size_t remove_all();

  struct Released {
    std::error_code ec;    // set: nothing changed (the capture keeps the message)
    std::string queue_id;  // the new queue message
    std::string detail;    // with ec: the address at fault and what is wrong with it
  };
  // Puts a copy into the real queue — to the envelope's own recipients when `rcpts` is empty,
  // else to those (each checked as an address) — and then removes the captured one. The queue
  // copy is durable before the capture copy goes, so a crash between the two can only leave both.
  // Addresses are given bare ("bob@example.com") or in angle brackets; each must be a mailbox
  // with a domain (RFC 5321 §4.1.2; no address literals) and goes through the resolver. The
  // envelope's own recipients are queued as they were resolved at capture, states reset. Errors:
  // Error::UnknownId, BadAddress, RecipientRefused, NoRecipients, Busy, or the queue's write error.
  boost::asio::awaitable<Released> release(const std::string& id, std::vector<std::string> rcpts);

  // The newest message matching `q` that arrived at or after `since` (the epoch: any), as soon as
  // there is one; null when `timeout` passes first. Many may wait at once.
  boost::asio::awaitable<SummaryPtr> wait(Query q, queue::TimePoint since,
                                          std::chrono::milliseconds timeout);

  // Live updates: `fn` is called on the store's executor for every change until the returned
  // handle is destroyed.
  using Subscriber = std::function<void(const Event&)>;
  class Subscription;
  std::unique_ptr<Subscription> subscribe(Subscriber fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Unsubscribes when destroyed; it may outlive the store (then it does nothing). A subscriber may
// destroy its own Subscription from within its callback.
class CaptureStore::Subscription {
 public:
  struct Hub;
  Subscription(std::weak_ptr<Hub> hub, uint64_t key) : hub_(std::move(hub)), key_(key) {}
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  std::weak_ptr<Hub> hub_;
  uint64_t key_;
};

}  // namespace hk::capture

template <>
struct std::is_error_code_enum<hk::capture::Error> : std::true_type {};
