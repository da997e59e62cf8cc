// Tests for ConsoleBackend over a real QueueStore, Queue and DeliveryLog: the queue page reads
// the folder with each recipient's state, retry refuses unknown and malformed IDs, remove takes
// a message out of the folder, the delivery log is filtered and bounded, and health carries the
// status reply and the relays.
#include "daemon/server/console_backend.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>

#include "daemon/queue/delivery_log.hpp"
#include "daemon/queue/queue.hpp"
#include "daemon/queue/queue_store.hpp"
#include "lib/base/clock.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::server {
namespace {

namespace asio = boost::asio;
using std::chrono::seconds;

// Never called: no test here delivers.
class NoCourier final : public queue::Courier {
 public:
  asio::awaitable<std::vector<queue::DeliveryResult>> deliver(
      const queue::Envelope&, const std::vector<const queue::Recipient*>&,
      const std::string&) override {
    co_return std::vector<queue::DeliveryResult>{};
  }
};

struct Fixture {
  test::TempDir tmp;
  asio::io_context io;
  asio::thread_pool pool{2};
  queue::QueueStore store{tmp.path() / "queue"};
  base::ManualClock clock{queue::TimePoint(seconds(1718000000))};
  NoCourier courier;
  queue::Queue q{
      io.get_executor(), pool,    store, queue::Queue::Options{{seconds(60)}, seconds(3600), 1},
      courier,           nullptr, clock};
  queue::DeliveryLog log{10};
  std::shared_ptr<const config::Config> cfg = [] {
    auto c = std::make_shared<config::Config>();
    config::Relay relay;
    relay.host = "smtp.example.net";
    c->relays.push_back(relay);
    return std::shared_ptr<const config::Config>(c);
  }();
  ConsoleBackend backend{
      ConsoleBackendDeps{.ex = io.get_executor(),
                         .pool = &pool,
                         .store = &store,
                         .queue = &q,
                         .log = &log,
                         .live_cfg = &cfg,
                         .dns = nullptr,
                         .dkim_keys = nullptr,
                         .status = [] { return std::string(R"({"version":"t"})"); },
                         .console_addresses = nullptr,
                         .local_domains = [] { return std::vector<std::string>{"example.org"}; }}};

  queue::Envelope put(const std::string& to) {
    queue::Envelope env;
    env.id = queue::QueueStore::new_id();
    env.created = queue::TimePoint(seconds(1718000000));
    env.from = "alice@example.org";
    queue::Recipient r;
    r.address = to;
    r.original = to;
    env.rcpts.push_back(r);
    std::optional<std::error_code> ec = test::run(io, store.put(env, "Subject: t\r\n\r\nhi\r\n"));
    EXPECT_TRUE(ec && !*ec);
    return env;
  }
};

TEST(ConsoleBackend, QueuePageFromTheFolder) {
  Fixture f;
  queue::Envelope a = f.put("bob@example.net");
  queue::Envelope b = f.put("carol@example.net");
  // An attempt's outcome as the runner saves it.
  b.rcpts[0].attempts = 3;
  b.rcpts[0].last_code = 451;
  b.rcpts[0].last_enhanced = "4.7.1";
  b.rcpts[0].last_text = "greylisted";
  b.rcpts[0].next_attempt = queue::TimePoint(seconds(1718000600));
  ASSERT_FALSE(f.store.save_state(b));
  std::optional<std::string> page = test::run(f.io, f.backend.queue_json(1, 10));
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, R"({"total":2,"start":1,"count":1,"messages":[{"ID":")" + b.id +
                       R"(","Created":"2024-06-10T06:13:20Z","From":"alice@example.org","Size":18,)"
                       R"("Recipients":[{"Address":"carol@example.net","Local":false,)"
                       R"("State":"pending","Attempts":3,"LastReply":"451 4.7.1 greylisted",)"
                       R"("NextAttempt":"2024-06-10T06:23:20Z"}]}]})");
  std::optional<std::string> first = test::run(f.io, f.backend.queue_json(0, 1));
  ASSERT_TRUE(first);
  EXPECT_NE(first->find(a.id), std::string::npos);
  EXPECT_EQ(first->find(b.id), std::string::npos);
}

TEST(ConsoleBackend, RetryAndRemove) {
  Fixture f;
  queue::Envelope a = f.put("bob@example.net");
  EXPECT_TRUE(f.backend.retry(a.id));
  EXPECT_TRUE(f.backend.retry(""));
  EXPECT_FALSE(f.backend.retry(queue::QueueStore::new_id()));
  EXPECT_FALSE(f.backend.retry("../../etc/passwd"));
  std::optional<std::error_code> ec = test::run(f.io, f.backend.remove(a.id));
  ASSERT_TRUE(ec);
  EXPECT_FALSE(*ec);
  EXPECT_FALSE(std::filesystem::exists(f.store.message_path(a.id)));
  EXPECT_FALSE(f.backend.retry(a.id));
  ec = test::run(f.io, f.backend.remove(a.id));
  ASSERT_TRUE(ec);
  EXPECT_EQ(*ec, std::errc::no_such_file_or_directory);
}

TEST(ConsoleBackend, LogAndHealth) {
  Fixture f;
  f.log.add({queue::TimePoint(seconds(1718000000)), "A", "x@example.net", queue::Route::Mx,
             queue::EventResult::Deferred, "451 later"});
  f.log.add({queue::TimePoint(seconds(1718000001)), "B", "y@example.net", queue::Route::Relay,
             queue::EventResult::Delivered, "250 ok"});
  EXPECT_EQ(f.backend.delivery_log_json("A", 10),
            R"({"events":[{"Time":"2024-06-10T06:13:20Z","ID":"A","Recipient":"x@example.net",)"
            R"("Via":"mx","Result":"deferred","Reply":"451 later"}]})");
  EXPECT_NE(f.backend.delivery_log_json("", 1).find(R"("ID":"B")"), std::string::npos);
  EXPECT_EQ(f.backend.delivery_log_json("", 1).find(R"("ID":"A")"), std::string::npos);
  EXPECT_EQ(f.backend.relay_count(), 1u);
  std::string health = f.backend.health_json();
  EXPECT_EQ(health.rfind(R"({"Status":{"version":"t"},"Console":[],"Domains":["example.org"],)"
                         R"("DkimKeys":[],)",
                         0),
            0u);
  EXPECT_NE(health.find(R"("Host":"smtp.example.net","Port":587,"Tls":"starttls")"),
            std::string::npos);
}

}  // namespace
}  // namespace hk::server
