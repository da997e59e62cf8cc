// Tests for CaptureStore on real files in a TempDir: put/list/search/find with order and paging,
// summaries, trimming (and its log), durability across a new store on the same folder, removal,
// release into a real QueueStore, wait and the live events.
#include "daemon/capture/capture_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/queue/queue_store.hpp"
#include "lib/base/files.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::capture {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using hk::test::TempDir;
using std::chrono::milliseconds;

std::string make_message(const std::string& from, const std::string& to, const std::string& subject,
                         const std::string& body) {
  return "Received: from app (localhost [127.0.0.1])\r\n"
         "From: " +
         from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" +
         std::to_string(body.size()) + ".Msg@test.example>\r\n" +
         "Date: Mon, 07 Dec 2026 05:00:00 +0000\r\n\r\n" + body + "\r\n";
}

queue::Envelope make_envelope(std::vector<std::string> rcpts) {
  queue::Envelope env;
  env.from = "app@test.example";
  env.client_ip = "127.0.0.1";
  env.helo = "app";
  for (const std::string& r : rcpts) {
    queue::Recipient rc;
    rc.address = r;
    rc.original = r;
    env.rcpts.push_back(rc);
  }
  return env;
}

std::vector<std::string> ids_of(const std::vector<SummaryPtr>& v) {
  std::vector<std::string> out;
  for (const SummaryPtr& s : v) {
    out.push_back(s->id);
  }
  return out;
}

std::vector<std::string> subjects_of(const std::vector<SummaryPtr>& v) {
  std::vector<std::string> out;
  for (const SummaryPtr& s : v) {
    out.push_back(s->subject);
  }
  return out;
}

Query query(const char* text) {
  std::string error;
  std::optional<Query> q = parse_query(text, error);
  EXPECT_TRUE(q.has_value()) << error;
  return q.value_or(Query{});
}

// Runs `aw` in the background on the test's io_context, keeping its result.
template <class T>
std::shared_ptr<std::optional<T>> spawn(asio::io_context& io, asio::awaitable<T> aw) {
  auto out = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, std::move(aw), [out](std::exception_ptr e, T v) {
    if (!e) {
      *out = std::move(v);
    }
  });
  return out;
}

// Runs `io` until `done` holds or `limit` passes (slow hosts, valgrind).
template <class Pred>
void drain_until(asio::io_context& io, Pred done, milliseconds limit = milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    hk::test::drain(io, milliseconds(10));
  }
}

class CaptureStoreTest : public testing::Test {
 protected:
  void SetUp() override { queue_ = std::make_unique<queue::QueueStore>(tmp_.path() / "queue"); }

  std::unique_ptr<CaptureStore> open(size_t max = 100) {
    return std::make_unique<CaptureStore>(
        io_.get_executor(), dir(), CaptureStore::Options{.max_messages = max}, *queue_,
        [this](queue::Envelope env) { enqueued_.push_back(std::move(env)); });
  }
  fs::path dir() const { return tmp_.path() / "capture"; }

  // Stores one message; returns its ID ("" on failure, which fails the test).
  std::string put(CaptureStore& store, const std::string& subject,
                  std::vector<std::string> rcpts = {"bob@example.net"},
                  const std::string& body = "Hello there.",
                  const std::string& to = "Bob <bob@example.net>") {
    queue::Envelope env = make_envelope(std::move(rcpts));
    std::string msg = make_message("Shop <shop@test.example>", to, subject, body);
    std::optional<std::error_code> ec =
        hk::test::run(io_, store.put(env, queue::MessageData{.head = {}, .body = msg}));
    EXPECT_TRUE(ec.has_value());
    EXPECT_FALSE(ec.value_or(std::make_error_code(std::errc::io_error)));
    return ec && !*ec ? env.id : "";
  }

  size_t files() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir())) {
      n += e.path().extension() == ".msg" ? 1 : 0;
    }
    return n;
  }

  TempDir tmp_;
  asio::io_context io_;
  std::unique_ptr<queue::QueueStore> queue_;
  std::vector<queue::Envelope> enqueued_;
};

TEST_F(CaptureStoreTest, PutBuildsTheSummaryAndStoresTheFile) {
  auto store = open();
  std::string body = "Please click https://app.example/reset?t=1 to reset.";
  std::string id = put(*store, "=?UTF-8?B?UsOpaW5pdGlhbGlzZXI=?= password",
                       {"bob@example.net", "hidden@example.net"}, body);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store->unread(), 1u);
  EXPECT_EQ(files(), 1u);
  SummaryPtr s = store->find(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->subject, "Réinitialiser password");
  EXPECT_EQ(s->from, (mime::Address{"Shop", "shop@test.example"}));
  ASSERT_EQ(s->to.size(), 1u);
  EXPECT_EQ(s->to[0], (mime::Address{"Bob", "bob@example.net"}));
  // The envelope recipient no header names is the Bcc.
  ASSERT_EQ(s->bcc.size(), 1u);
  EXPECT_EQ(s->bcc[0].address, "hidden@example.net");
  EXPECT_EQ(s->envelope_from, "app@test.example");
  EXPECT_EQ(s->envelope_to, (std::vector<std::string>{"bob@example.net", "hidden@example.net"}));
  EXPECT_EQ(s->message_id, std::to_string(body.size()) + ".Msg@test.example");
  EXPECT_NE(s->snippet.find("Please click"), std::string::npos) << s->snippet;
  EXPECT_FALSE(s->read);
  // The summary's time is the ID's, to the microsecond, within the second the envelope says.
  auto now = std::chrono::system_clock::now();
  EXPECT_LE(s->created, now);
  EXPECT_GT(s->created, now - std::chrono::seconds(5));

  std::string raw;
  ASSERT_FALSE(store->raw(id, raw));
  EXPECT_EQ(raw.substr(0, 9), "Received:");
  EXPECT_EQ(s->size, raw.size());
  queue::Envelope env;
  ASSERT_FALSE(store->envelope(id, env));
  EXPECT_EQ(env.rcpts.size(), 2u);
  EXPECT_EQ(store->raw("NOSUCHID", raw), Error::UnknownId);
  EXPECT_EQ(store->find("NOSUCHID"), nullptr);
}

TEST_F(CaptureStoreTest, ListIsNewestFirstWithPaging) {
  auto store = open();
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(put(*store, "message " + std::to_string(i)));
  }
  size_t total = 0;
  std::vector<SummaryPtr> page = store->list(0, 3, total);
  EXPECT_EQ(total, 7u);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{ids[6], ids[5], ids[4]}));
  page = store->list(3, 3, total);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{ids[3], ids[2], ids[1]}));
  page = store->list(6, 3, total);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{ids[0]}));
  page = store->list(7, 3, total);
  EXPECT_TRUE(page.empty());
  EXPECT_EQ(total, 7u);
  page = store->list(100, 3, total);
  EXPECT_TRUE(page.empty());
  page = store->list(0, 0, total);
  EXPECT_TRUE(page.empty());
}

TEST_F(CaptureStoreTest, SearchCountsAllMatchesAndPages) {
  auto store = open();
  put(*store, "welcome alice", {"alice@example.net"}, "Hi Alice", "alice@example.net");
  put(*store, "reset password", {"bob@example.net"}, "Your code is 1234");
  put(*store, "welcome bob", {"bob@example.net"}, "Hi Bob");
  put(*store, "reset password", {"alice@example.net"}, "Your code is 5678", "alice@example.net");
  size_t total = 0;
  EXPECT_EQ(subjects_of(store->search(query("welcome"), 0, 10, total)),
            (std::vector<std::string>{"welcome bob", "welcome alice"}));
  EXPECT_EQ(total, 2u);
  std::vector<SummaryPtr> page = store->search(query("to:alice"), 1, 1, total);
  EXPECT_EQ(total, 2u);
  EXPECT_EQ(subjects_of(page), (std::vector<std::string>{"welcome alice"}));
  page = store->search(query("subject:reset -to:bob"), 0, 10, total);
  EXPECT_EQ(total, 1u);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_NE(page[0]->snippet.find("5678"), std::string::npos);
  page = store->search(query("1234"), 0, 10, total);  // the snippet
  EXPECT_EQ(total, 1u);
  page = store->search(query(""), 0, 2, total);  // no terms: the list
  EXPECT_EQ(total, 4u);
  EXPECT_EQ(page.size(), 2u);
  page = store->search(query("nothing-like-this"), 0, 10, total);
  EXPECT_EQ(total, 0u);
  EXPECT_TRUE(page.empty());
}

TEST_F(CaptureStoreTest, TrimsTheOldestBeyondMaxMessagesAndLogsEach) {
  auto store = open(3);
  std::vector<std::string> ids;
  testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) {
    ids.push_back(put(*store, "m" + std::to_string(i)));
  }
  store.reset();  // the unlinks are done once the store is gone
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("capture id=" + ids[0] + " result=dropped reason=max_messages"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("capture id=" + ids[1] + " result=dropped reason=max_messages"),
            std::string::npos);
  EXPECT_EQ(log.find("capture id=" + ids[2] + " result=dropped"), std::string::npos);
  EXPECT_EQ(files(), 3u);

  store = open(3);
  size_t total = 0;
  EXPECT_EQ(ids_of(store->list(0, 10, total)), (std::vector<std::string>{ids[4], ids[3], ids[2]}));
  // A smaller limit on reload drops at once.
  store->reconfigure({.max_messages = 2});
  EXPECT_EQ(ids_of(store->list(0, 10, total)), (std::vector<std::string>{ids[4], ids[3]}));
  // And so does a smaller limit at startup.
  store.reset();
  testing::internal::CaptureStderr();
  store = open(1);
  log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(ids_of(store->list(0, 10, total)), (std::vector<std::string>{ids[4]}));
  EXPECT_NE(log.find("capture id=" + ids[3] + " result=dropped reason=max_messages"),
            std::string::npos)
      << log;
  store.reset();
  EXPECT_EQ(files(), 1u);
}

TEST_F(CaptureStoreTest, ANewStoreOnTheSameFolderSeesTheSameMessages) {
  std::vector<std::string> ids;
  std::vector<SummaryPtr> before;
  {
    auto store = open();
    ids.push_back(put(*store, "first", {"a@example.net"}, "one"));
    ids.push_back(put(*store, "=?ISO-8859-1?Q?caf=E9?=", {"b@example.net"}, "two"));
    ids.push_back(put(*store, "third", {"c@example.net"}, "three"));
    size_t total = 0;
    before = store->list(0, 10, total);
  }
  // A file that is not a capture file is skipped, logged and left alone.
  tmp_.write("capture/0000000000000JUNK.msg", "not a capture file\n");
  testing::internal::CaptureStderr();
  auto store = open();
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("capture id=0000000000000JUNK result=skipped"), std::string::npos) << log;
  EXPECT_NE(log.find("capture loaded=3 skipped=1"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir() / "0000000000000JUNK.msg"));
  EXPECT_EQ(store->load_stats().loaded, 3u);
  EXPECT_EQ(store->load_stats().skipped, 1u);

  size_t total = 0;
  std::vector<SummaryPtr> after = store->list(0, 10, total);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i]->id, before[i]->id);
    EXPECT_EQ(after[i]->created, before[i]->created);
    EXPECT_EQ(after[i]->subject, before[i]->subject);
    EXPECT_EQ(after[i]->snippet, before[i]->snippet);
    EXPECT_EQ(after[i]->size, before[i]->size);
    EXPECT_EQ(after[i]->from, before[i]->from);
    EXPECT_EQ(after[i]->envelope_to, before[i]->envelope_to);
  }
  EXPECT_EQ(after[1]->subject, "café");
}

TEST_F(CaptureStoreTest, RemoveAndRemoveAll) {
  auto store = open();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(put(*store, "m" + std::to_string(i)));
  }
  EXPECT_EQ(store->remove({ids[1], "UNKNOWN", ids[3], ids[1]}), 2u);
  size_t total = 0;
  EXPECT_EQ(ids_of(store->list(0, 10, total)), (std::vector<std::string>{ids[4], ids[2], ids[0]}));
  EXPECT_EQ(store->remove_all(), 3u);
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(store->unread(), 0u);
  store.reset();
  EXPECT_EQ(files(), 0u);
  EXPECT_EQ(open()->size(), 0u);
}

TEST_F(CaptureStoreTest, MarkReadCountsAndTells) {
  auto store = open();
  std::string a = put(*store, "a");
  std::string b = put(*store, "b");
  std::vector<Event> events;
  auto sub = store->subscribe([&](const Event& e) { events.push_back(e); });
  store->mark_read(a);
  store->mark_read(a);  // no change, no event
  EXPECT_EQ(store->unread(), 1u);
  EXPECT_TRUE(store->find(a)->read);
  EXPECT_FALSE(store->find(b)->read);
  size_t total = 0;
  EXPECT_EQ(store->search(query("is:read"), 0, 10, total).size(), 1u);
  store->mark_read(a, false);
  EXPECT_EQ(store->unread(), 2u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Event::Kind::Read);
  EXPECT_TRUE(events[0].message->read);
  EXPECT_FALSE(events[1].message->read);
}

TEST_F(CaptureStoreTest, SubscribersHearAddsRemovesAndStopWhenTheHandleGoes) {
  auto store = open(2);
  std::vector<std::pair<Event::Kind, std::string>> seen, other;
  auto sub = store->subscribe([&](const Event& e) { seen.emplace_back(e.kind, e.message->id); });
  auto sub2 = store->subscribe([&](const Event& e) { other.emplace_back(e.kind, e.message->id); });
  std::string a = put(*store, "a");
  std::string b = put(*store, "b");
  std::string c = put(*store, "c");  // drops a
  store->remove({b});
  sub2.reset();
  store->remove_all();  // c
  using K = Event::Kind;
  EXPECT_EQ(seen, (std::vector<std::pair<K, std::string>>{{K::Added, a},
                                                          {K::Added, b},
                                                          {K::Added, c},
                                                          {K::Removed, a},
                                                          {K::Removed, b},
                                                          {K::Removed, c}}));
  EXPECT_EQ(other.size(), 5u);
  sub.reset();
  put(*store, "d");
  EXPECT_EQ(seen.size(), 6u);
  // A subscriber may drop its own handle while being told, and a handle may outlive the store.
  std::unique_ptr<CaptureStore::Subscription> self;
  int calls = 0;
  self = store->subscribe([&](const Event&) {
    ++calls;
    self.reset();
  });
  put(*store, "e");
  put(*store, "f");
  EXPECT_GE(calls, 1);
  EXPECT_LE(calls, 2);  // "e" and the drop it causes are told within one put
  auto late = store->subscribe([](const Event&) {});
  store.reset();
  late.reset();
}

TEST_F(CaptureStoreTest, ReleaseToOwnRecipientsQueuesThenRemoves) {
  auto store = open();
  std::string id = put(*store, "go", {"bob@example.net", "carol@example.org"});
  std::string raw;
  ASSERT_FALSE(store->raw(id, raw));
  std::optional<CaptureStore::Released> r = hk::test::run(io_, store->release(id, {}));
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ec) << r->ec.message();
  EXPECT_NE(r->queue_id, id);
  // In the queue: the same bytes to the same recipients, pending.
  std::vector<std::string> queued = queue_->list();
  ASSERT_EQ(queued, std::vector<std::string>{r->queue_id});
  queue::Envelope env;
  std::string message;
  ASSERT_FALSE(queue_->load(r->queue_id, env, message));
  EXPECT_EQ(message, raw);
  ASSERT_EQ(env.rcpts.size(), 2u);
  EXPECT_EQ(env.rcpts[0].address, "bob@example.net");
  EXPECT_EQ(env.rcpts[1].address, "carol@example.org");
  EXPECT_EQ(env.from, "app@test.example");
  ASSERT_EQ(enqueued_.size(), 1u);
  EXPECT_EQ(enqueued_[0].id, r->queue_id);
  // Gone from the capture.
  EXPECT_EQ(store->find(id), nullptr);
  store.reset();
  EXPECT_EQ(files(), 0u);
}

TEST_F(CaptureStoreTest, ReleaseToGivenRecipientsThroughTheResolver) {
  auto store = open();
  std::string id = put(*store, "go", {"bob@example.net"});
  std::vector<std::string> asked;
  store->set_recipient_resolver([&](const std::string& a, std::string& error) {
    asked.push_back(a);
    std::vector<queue::Recipient> out;
    if (a == "nobody@local.example") {
      error = "no such user";
      return out;
    }
    queue::Recipient r;
    r.address = a == "team@local.example" ? "dev1@local.example" : a;
    r.original = a;
    r.local = a.ends_with("@local.example");
    out.push_back(r);
    return out;
  });
  std::optional<CaptureStore::Released> r =
      hk::test::run(io_, store->release(id, {" <qa@Remote.Example> ", "team@local.example"}));
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ec) << r->ec.message() << " " << r->detail;
  EXPECT_EQ(asked, (std::vector<std::string>{"qa@remote.example", "team@local.example"}));
  queue::Envelope env;
  ASSERT_FALSE(queue_->load_envelope(r->queue_id, env));
  ASSERT_EQ(env.rcpts.size(), 2u);
  EXPECT_EQ(env.rcpts[0].address, "qa@remote.example");
  EXPECT_FALSE(env.rcpts[0].local);
  EXPECT_EQ(env.rcpts[1].address, "dev1@local.example");
  EXPECT_EQ(env.rcpts[1].original, "team@local.example");
  EXPECT_TRUE(env.rcpts[1].local);

  // The resolver's refusal changes nothing.
  std::string id2 = put(*store, "again");
  r = hk::test::run(io_, store->release(id2, {"ok@remote.example", "nobody@local.example"}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ec, Error::RecipientRefused);
  EXPECT_NE(r->detail.find("no such user"), std::string::npos) << r->detail;
  EXPECT_EQ(queue_->list().size(), 1u);
  EXPECT_TRUE(store->find(id2));
}

TEST_F(CaptureStoreTest, ReleaseErrorsChangeNothing) {
  auto store = open();
  std::string id = put(*store, "keep");
  for (const char* bad :
       {"not an address", "bob@", "@example.net", "bob@[127.0.0.1]", "postmaster", "a@b@c", ""}) {
    std::optional<CaptureStore::Released> r =
        hk::test::run(io_, store->release(id, {"good@example.net", bad}));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->ec, Error::BadAddress) << bad;
    EXPECT_NE(r->detail.find(':'), std::string::npos) << r->detail;
    EXPECT_EQ(r->ec.message(), "not a valid recipient address");
  }
  std::optional<CaptureStore::Released> r = hk::test::run(io_, store->release("NOSUCHID", {}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ec, Error::UnknownId);
  EXPECT_TRUE(queue_->list().empty());
  EXPECT_TRUE(enqueued_.empty());
  EXPECT_TRUE(store->find(id));
  EXPECT_EQ(files(), 1u);
}

TEST_F(CaptureStoreTest, WaitAnswersAtOnceWhenAMatchIsThere) {
  auto store = open();
  std::string a = put(*store, "reset password", {"alice@example.net"});
  put(*store, "welcome", {"bob@example.net"});
  auto start = std::chrono::steady_clock::now();
  std::optional<SummaryPtr> s =
      hk::test::run(io_, store->wait(query("to:alice"), queue::TimePoint{}, milliseconds(5000)));
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->id, a);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

TEST_F(CaptureStoreTest, WaitResolvesOnTheNextMatchingPut) {
  auto store = open();
  auto w1 = spawn(io_, store->wait(query("subject:reset"), queue::TimePoint{}, milliseconds(5000)));
  auto w2 = spawn(io_, store->wait(query("subject:reset"), queue::TimePoint{}, milliseconds(5000)));
  auto w3 = spawn(io_, store->wait(query("to:carol"), queue::TimePoint{}, milliseconds(300)));
  hk::test::drain(io_, milliseconds(20));
  EXPECT_FALSE(w1->has_value());
  put(*store, "welcome");  // matches none
  hk::test::drain(io_, milliseconds(20));
  EXPECT_FALSE(w1->has_value());
  std::string id = put(*store, "reset password");
  drain_until(io_, [&] { return w1->has_value() && w2->has_value(); });
  ASSERT_TRUE(w1->has_value());
  ASSERT_TRUE(**w1);
  EXPECT_EQ((**w1)->id, id);
  ASSERT_TRUE(w2->has_value());  // many waiters
  ASSERT_TRUE(**w2);
  EXPECT_EQ((**w2)->id, id);
  drain_until(io_, [&] { return w3->has_value(); });
  ASSERT_TRUE(w3->has_value());  // timed out
  EXPECT_EQ(**w3, nullptr);
}

TEST_F(CaptureStoreTest, WaitTimesOutWithNull) {
  auto store = open();
  put(*store, "welcome");
  auto start = std::chrono::steady_clock::now();
  std::optional<SummaryPtr> s = hk::test::run(
      io_, store->wait(query("subject:reset"), queue::TimePoint{}, milliseconds(150)));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
  s = hk::test::run(io_, store->wait(query("subject:reset"), queue::TimePoint{}, milliseconds(0)));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, nullptr);
}

TEST_F(CaptureStoreTest, WaitOnlyCountsMessagesSince) {
  auto store = open();
  std::string old = put(*store, "reset one");
  queue::TimePoint since = store->find(old)->created + std::chrono::microseconds(1);
  auto w = spawn(io_, store->wait(query("reset"), since, milliseconds(5000)));
  hk::test::drain(io_, milliseconds(20));
  EXPECT_FALSE(w->has_value()) << "the older message must not count";
  std::string fresh = put(*store, "reset two");
  drain_until(io_, [&] { return w->has_value(); });
  ASSERT_TRUE(w->has_value());
  ASSERT_TRUE(**w);
  EXPECT_EQ((**w)->id, fresh);
  // Both are there now: since the epoch the newest answers, since `old`'s time the old one too.
  std::optional<SummaryPtr> s =
      hk::test::run(io_, store->wait(query("reset"), queue::TimePoint{}, milliseconds(0)));
  EXPECT_EQ((**s).id, fresh);
}

TEST_F(CaptureStoreTest, WaitersEndWithNullWhenTheStoreGoes) {
  auto store = open();
  auto w = spawn(io_, store->wait(query("x"), queue::TimePoint{}, milliseconds(60000)));
  hk::test::drain(io_, milliseconds(20));
  store.reset();
  drain_until(io_, [&] { return w->has_value(); });
  ASSERT_TRUE(w->has_value());
  EXPECT_EQ(**w, nullptr);
  // A waiter whose io_context is destroyed while it waits unregisters without harm.
  {
    asio::io_context other;
    auto s2 = std::make_unique<CaptureStore>(other.get_executor(), dir(), CaptureStore::Options{},
                                             *queue_, nullptr);
    auto w2 = spawn(other, s2->wait(query("x"), queue::TimePoint{}, milliseconds(60000)));
    other.run_for(milliseconds(20));
    EXPECT_FALSE(w2->has_value());
  }
}

TEST_F(CaptureStoreTest, ASpooledBodyIsSummarisedFromItsHeadAndStoredWhole) {
  auto store = open();
  // Our header in memory, the body in a file (as a large DATA is spooled): 300 KiB, with an
  // attachment that starts inside the first 64 KiB and ends far beyond it.
  std::string body =
      "From: Shop <shop@test.example>\r\nTo: bob@example.net\r\nSubject: big one\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nSee the attached report.\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"r.bin\"\r\nContent-Transfer-Encoding: base64"
      "\r\n\r\n";
  while (body.size() < 300 * 1024) {
    body += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
  }
  body += "--b--\r\n";
  fs::path spool = tmp_.write("spool", body);
  int fd = ::open(spool.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string head = "Received: from app by test\r\n";
  queue::Envelope env = make_envelope({"bob@example.net"});
  std::optional<std::error_code> ec = hk::test::run(
      io_, store->put(env, queue::MessageData{
                               .head = head, .body = {}, .body_fd = fd, .body_size = body.size()}));
  ::close(fd);
  ASSERT_TRUE(ec.has_value());
  ASSERT_FALSE(*ec) << ec->message();
  SummaryPtr s = store->find(env.id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->subject, "big one");
  EXPECT_EQ(s->snippet, "See the attached report.");
  EXPECT_EQ(s->attachments, 1u);
  EXPECT_EQ(s->size, head.size() + body.size());
  std::string raw;
  ASSERT_FALSE(store->raw(env.id, raw));
  EXPECT_EQ(raw, head + body);
  // The startup scan reads only the head of the file and agrees.
  store.reset();
  store = open();
  SummaryPtr again = store->find(env.id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->snippet, s->snippet);
  EXPECT_EQ(again->size, s->size);
  EXPECT_EQ(again->attachments, 1u);
}

TEST_F(CaptureStoreTest, ASecondReleaseOfTheSameMessageIsBusyAndOneCopyIsQueued) {
  auto store = open();
  std::string id = put(*store, "once");
  std::vector<Event> events;
  auto sub = store->subscribe([&](const Event& e) { events.push_back(e); });
  auto first = spawn(io_, store->release(id, {}));
  auto second = spawn(io_, store->release(id, {}));
  drain_until(io_, [&] { return first->has_value() && second->has_value(); });
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE(second->has_value());
  EXPECT_FALSE((*first)->ec) << (*first)->ec.message();
  EXPECT_EQ((*second)->ec, Error::Busy);
  EXPECT_EQ(queue_->list().size(), 1u);
  EXPECT_EQ(enqueued_.size(), 1u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Event::Kind::Removed);
  EXPECT_EQ(events[0].message->id, id);
  // Released, it is gone: a third release knows nothing of it.
  std::optional<CaptureStore::Released> r = hk::test::run(io_, store->release(id, {}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ec, Error::UnknownId);
}

TEST_F(CaptureStoreTest, PutFailsCleanlyWhenTheFolderIsGone) {
  auto store = open();
  put(*store, "before");
  std::vector<Event> events;
  auto sub = store->subscribe([&](const Event& e) { events.push_back(e); });
  fs::remove_all(dir());
  queue::Envelope env = make_envelope({"bob@example.net"});
  std::string msg = make_message("a@b.example", "c@d.example", "lost", "x");
  std::optional<std::error_code> ec =
      hk::test::run(io_, store->put(env, queue::MessageData{.head = {}, .body = msg}));
  ASSERT_TRUE(ec.has_value());
  EXPECT_TRUE(*ec);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace hk::capture
