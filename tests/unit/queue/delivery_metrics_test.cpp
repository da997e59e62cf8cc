// Tests for the delivery metrics: outcomes counted per transport, the MaildirCourier's counts,
// and the queue runner's expired recipients and delay to delivery.
#include "daemon/queue/delivery_metrics.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "daemon/queue/maildir_courier.hpp"
#include "daemon/queue/queue.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::queue {
namespace {

namespace asio = boost::asio;
using Status = DeliveryResult::Status;
using namespace std::chrono_literals;

TEST(DeliveryMetrics, RegistersEveryTransportAtZero) {
  metrics::Registry reg;
  register_delivery_metrics(reg);
  std::string page = reg.render();
  for (const char* via : {"maildir", "mx", "relay"}) {
    for (const char* family : {"delivered", "deferred", "bounced"}) {
      std::string series = std::string("hikyaku_") + family + "_total{via=\"" + via + "\"} 0\n";
      EXPECT_NE(page.find(series), std::string::npos) << series;
    }
    std::string count =
        std::string("hikyaku_delivery_duration_seconds_count{via=\"") + via + "\"} 0\n";
    EXPECT_NE(page.find(count), std::string::npos) << count;
  }
  EXPECT_NE(page.find("hikyaku_expired_total 0\n"), std::string::npos);
  EXPECT_NE(page.find("hikyaku_delivery_delay_seconds_count 0\n"), std::string::npos);
}

TEST(DeliveryMetrics, RemoteReplyClassesAndTlsLevels) {
  metrics::Registry reg;
  DeliveryMetrics m = register_delivery_metrics(reg);
  EXPECT_EQ(reply_class(250), ReplyClass::Positive);
  EXPECT_EQ(reply_class(421), ReplyClass::Transient);
  EXPECT_EQ(reply_class(554), ReplyClass::Permanent);
  EXPECT_EQ(reply_class(0), ReplyClass::None);
  EXPECT_EQ(reply_class(354), ReplyClass::None);
  m.mx_remote.record_replies({{Status::Delivered, 250, "2.0.0", ""},
                              {Status::Transient, 451, "4.7.1", ""},
                              {Status::Permanent, 550, "5.1.1", ""},
                              {Status::Permanent, 550, "", ""},
                              {Status::Transient, 0, "", "connection refused"}});
  m.mx_remote.transaction(TlsLevel::MtaSts);
  m.mx_remote.transaction(TlsLevel::MtaSts);
  m.relay_remote.transaction(TlsLevel::Verified);
  std::string page = reg.render();
  for (const char* want : {
           "hikyaku_delivery_replies_total{via=\"mx\",class=\"2xx\"} 1\n",
           "hikyaku_delivery_replies_total{via=\"mx\",class=\"4xx\"} 1\n",
           "hikyaku_delivery_replies_total{via=\"mx\",class=\"5xx\"} 2\n",
           "hikyaku_delivery_replies_total{via=\"mx\",class=\"none\"} 1\n",
           "hikyaku_delivery_replies_total{via=\"relay\",class=\"2xx\"} 0\n",
           "hikyaku_delivery_tls_total{via=\"mx\",level=\"mta-sts\"} 2\n",
           "hikyaku_delivery_tls_total{via=\"mx\",level=\"plain\"} 0\n",
           "hikyaku_delivery_tls_total{via=\"relay\",level=\"verified\"} 1\n",
           "hikyaku_delivery_tls_total{via=\"relay\",level=\"dane\"} 0\n",
       }) {
    EXPECT_NE(page.find(want), std::string::npos) << want;
  }
}

TEST(DeliveryMetrics, RecordCountsEachRecipientAndTheAttemptOnce) {
  metrics::Registry reg;
  DeliveryMetrics m = register_delivery_metrics(reg);
  m.mx.record({{Status::Delivered, 250, "", ""},
               {Status::Delivered, 250, "", ""},
               {Status::Transient, 451, "", ""},
               {Status::Permanent, 550, "", ""}},
              1500ms);
  EXPECT_EQ(m.mx.delivered.value(), 2u);
  EXPECT_EQ(m.mx.deferred.value(), 1u);
  EXPECT_EQ(m.mx.bounced.value(), 1u);
  EXPECT_EQ(m.mx.duration.snapshot().count, 1u);
  EXPECT_EQ(m.mx.duration.snapshot().sum, 1.5);
  // The other transports are separate series.
  EXPECT_EQ(m.relay.delivered.value(), 0u);
  EXPECT_EQ(m.maildir.delivered.value(), 0u);
}

Envelope local_envelope(std::vector<std::string> users) {
  Envelope env;
  env.id = QueueStore::new_id();
  env.created = std::chrono::system_clock::now() - 90s;  // accepted a minute and a half ago
  env.from = "alice@example.org";
  for (const std::string& u : users) {
    Recipient r;
    r.address = u + "@example.net";
    r.original = r.address;
    r.local = true;
    env.rcpts.push_back(r);
  }
  return env;
}

TEST(DeliveryMetrics, MaildirCourierCountsItsDeliveries) {
  hk::test::TempDir tmp;
  asio::io_context io;
  asio::thread_pool pool(1);
  metrics::Registry reg;
  DeliveryMetrics m = register_delivery_metrics(reg);
  MaildirCourier courier(pool, tmp.path() / "mail", "mx.test", &m.maildir);
  // "../x" cannot name a mailbox: a permanent failure.
  Envelope env = local_envelope({"bob", "carol", "../x"});
  std::vector<const Recipient*> rcpts = {&env.rcpts[0], &env.rcpts[1], &env.rcpts[2]};
  auto results = hk::test::run(io, courier.deliver(env, rcpts, "Subject: t\r\n\r\nhi\r\n"));
  ASSERT_TRUE(results.has_value());
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ(m.maildir.delivered.value(), 2u);
  EXPECT_EQ(m.maildir.bounced.value(), 1u);
  EXPECT_EQ(m.maildir.duration.snapshot().count, 1u);
  pool.join();
}

// Answers every recipient with one status.
class FixedCourier final : public Courier {
 public:
  explicit FixedCourier(Status s) : status_(s) {}
  asio::awaitable<std::vector<DeliveryResult>> deliver(const Envelope&,
                                                       const std::vector<const Recipient*>& rcpts,
                                                       const std::string&) override {
    ++calls;
    co_return std::vector<DeliveryResult>(rcpts.size(), DeliveryResult{status_, 0, "", "fixed"});
  }
  int calls = 0;

 private:
  Status status_;
};

// Runs `q` until `done` holds (10 s at most), then stops it.
void run_queue(asio::io_context& io, Queue& q, const std::function<bool()>& done) {
  bool stopped = false;
  asio::co_spawn(io, q.run(), [&](std::exception_ptr) { stopped = true; });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    io.restart();
  }
  q.stop();
  while (!stopped && std::chrono::steady_clock::now() < deadline + 10s) {
    io.run_for(10ms);
    io.restart();
  }
  EXPECT_TRUE(done());
}

// A queue folder, an io_context, a pool and the delivery metrics, for the runner tests.
struct QueueWithMetrics {
  hk::test::TempDir tmp;
  asio::io_context io;
  asio::thread_pool pool{2};
  QueueStore store{tmp.path() / "queue"};
  metrics::Registry reg;
  DeliveryMetrics m = register_delivery_metrics(reg);
};

TEST(DeliveryMetrics, QueueObservesTheDelayOfEachDelivery) {
  QueueWithMetrics f;
  auto& [tmp, io, pool, store, reg, m] = f;
  FixedCourier local(Status::Delivered);
  Queue::Options opts{{std::chrono::seconds(1)}, std::chrono::seconds(3600), 4, nullptr};
  opts.metrics = &m;
  base::SystemClock clock;
  Queue q(io.get_executor(), pool, store, opts, local, nullptr, clock);
  Envelope env = local_envelope({"bob", "carol"});
  auto put = hk::test::run(io, store.put(env, "Subject: t\r\n\r\nhi\r\n"));
  ASSERT_TRUE(put.has_value());
  ASSERT_FALSE(*put);
  q.enqueued(env);
  run_queue(io, q, [&] { return m.delay.snapshot().count == 2; });
  metrics::Histogram::Snapshot s = m.delay.snapshot();
  // Both waited from acceptance, 90 s ago: in the (60, 300] bucket.
  EXPECT_EQ(s.cumulative[2], 0u);  // le=60
  EXPECT_EQ(s.cumulative[3], 2u);  // le=300
  EXPECT_GE(s.sum, 180.0);
  EXPECT_EQ(m.expired.value(), 0u);
  pool.join();
}

TEST(DeliveryMetrics, QueueCountsRecipientsThatExpire) {
  QueueWithMetrics f;
  auto& [tmp, io, pool, store, reg, m] = f;
  FixedCourier local(Status::Transient);
  // A lifetime already over: the first transient failure is the last.
  Queue::Options opts{{std::chrono::seconds(1)}, std::chrono::seconds(60), 4, nullptr};
  opts.metrics = &m;
  base::SystemClock clock;
  Queue q(io.get_executor(), pool, store, opts, local, nullptr, clock);
  Envelope env = local_envelope({"bob"});
  auto put = hk::test::run(io, store.put(env, "Subject: t\r\n\r\nhi\r\n"));
  ASSERT_TRUE(put.has_value());
  ASSERT_FALSE(*put);
  q.enqueued(env);
  run_queue(io, q, [&] { return m.expired.value() == 1 && store.list().empty(); });
  EXPECT_EQ(local.calls, 1);
  EXPECT_EQ(m.delay.snapshot().count, 0u);
  pool.join();
}

}  // namespace
}  // namespace hk::queue
