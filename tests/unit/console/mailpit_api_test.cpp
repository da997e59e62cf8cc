// daemon/console/mailpit_api.cpp in process: the routes of add_mailpit_api called through the
// real Router over a real CaptureStore (files in a TempDir, a real QueueStore for releases), so
// that the handlers' statuses, bodies and headers are checked without a socket. t-47-api does the
// same over HTTP against the daemon.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/capture/capture_store.hpp"
#include "daemon/console/json_in.hpp"
#include "daemon/console/routes.hpp"
#include "daemon/queue/queue_store.hpp"
#include "tests/support/run.hpp"
#include "tests/support/temp_dir.hpp"

namespace hk::console {
namespace {

namespace asio = boost::asio;
using json_in::Value;

class Events : public EventStream {
 public:
  asio::awaitable<bool> send(std::string_view event, std::string_view data) override {
    sent.emplace_back(event, data);
    co_return sent.size() < stop_after;
  }
  asio::awaitable<bool> ping() override { co_return true; }
  std::vector<std::pair<std::string, std::string>> sent;
  size_t stop_after = 1;
};

class MailpitApiTest : public testing::Test {
 protected:
  void SetUp() override {
    queue_ = std::make_unique<queue::QueueStore>(tmp_.path() / "queue");
    store_ = std::make_unique<capture::CaptureStore>(
        io_.get_executor(), tmp_.path() / "capture", capture::CaptureStore::Options{}, *queue_,
        [this](queue::Envelope env) { enqueued_.push_back(std::move(env)); });
    add_mailpit_api(router_, store_.get());
    add_mailpit_api(off_, nullptr);
  }

  std::string put(const std::string& subject, const std::string& extra_headers = "",
                  const std::string& body = "Hello.\r\n") {
    queue::Envelope env;
    env.from = "app@app.test";
    queue::Recipient r;
    r.address = r.original = "bob@far.example";
    env.rcpts.push_back(r);
    std::string msg =
        "Received: from app by mx.test (hikyaku) with ESMTP id X; Mon, 7 Dec 2026 05:00:00 "
        "+0000\r\n"
        "From: App <app@app.test>\r\nTo: bob@far.example\r\nSubject: " +
        subject + "\r\n" + extra_headers + "\r\n" + body;
    auto ec = test::run(io_, store_->put(env, queue::MessageData{.head = {}, .body = msg}));
    EXPECT_TRUE(ec && !*ec);
    return env.id;
  }

  Response call(http::verb verb, std::string path, std::map<std::string, std::string> query = {},
                std::string body = "", Router* router = nullptr) {
    Router& r = router ? *router : router_;
    Request req(verb, path, 11);
    req.body() = body;
    Router::Match m = r.match(verb, path);
    if (m.handler == nullptr) {
      Response res;
      res.result(m.wrong_method ? http::status::method_not_allowed : http::status::not_found);
      return res;
    }
    Call c{req, path, std::move(query), m.params, "127.0.0.1", true, false, true, "t"};
    auto res = test::run(io_, (*m.handler)(c), std::chrono::seconds(20));
    EXPECT_TRUE(res) << path;
    return res.value_or(Response{});
  }

  Value json(const Response& res) {
    std::string error;
    auto v = json_in::parse(res.body(), error);
    EXPECT_TRUE(v) << error << ": " << res.body();
    return v.value_or(Value{});
  }

  test::TempDir tmp_;
  asio::io_context io_;
  std::unique_ptr<queue::QueueStore> queue_;
  std::unique_ptr<capture::CaptureStore> store_;
  std::vector<queue::Envelope> enqueued_;
  Router router_, off_;
};

TEST_F(MailpitApiTest, ListSearchAndPaging) {
  for (int i = 1; i <= 4; ++i) {
    put("note " + std::to_string(i));
  }
  Response res = call(http::verb::get, "/api/v1/messages", {{"start", "1"}, {"limit", "2"}});
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type].substr(0, 16), "application/json");
  Value v = json(res);
  EXPECT_EQ(v.get("total")->number, 4);
  EXPECT_EQ(v.get("unread")->number, 4);
  ASSERT_EQ(v.get("messages")->array.size(), 2u);
  EXPECT_EQ(v.get("messages")->array[0].get("Subject")->string, "note 3");
  EXPECT_EQ(v.get("messages")->array[1].get("Subject")->string, "note 2");

  v = json(call(http::verb::get, "/api/v1/search", {{"query", "subject:\"note 4\""}}));
  EXPECT_EQ(v.get("messages_count")->number, 1);
  EXPECT_EQ(v.get("total")->number, 4);

  res = call(http::verb::get, "/api/v1/search", {{"query", "subject:\"open"}});
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(json(res).get("Error"), nullptr);
  EXPECT_EQ(call(http::verb::get, "/api/v1/messages", {{"limit", "-1"}}).result(),
            http::status::bad_request);
}

TEST_F(MailpitApiTest, MessageMarksReadAndLatestWorks) {
  put("first");
  std::string id = put("second");
  Response res = call(http::verb::get, "/api/v1/message/latest");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(json(res).get("ID")->string, id);
  EXPECT_TRUE(store_->find(id)->read);
  EXPECT_EQ(store_->unread(), 1u);
  EXPECT_EQ(call(http::verb::get, "/api/v1/message/nope").result(), http::status::not_found);

  res = call(http::verb::get, "/api/v1/message/" + id + "/raw");
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_NE(res.body().find("Subject: second\r\n"), std::string::npos);

  res = call(http::verb::put, "/api/v1/messages", {}, R"({"IDs":[")" + id + R"("],"Read":false})");
  EXPECT_EQ(res.body(), "ok");
  EXPECT_EQ(store_->unread(), 2u);
}

TEST_F(MailpitApiTest, PartsAndViews) {
  std::string id =
      put("html", "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n",
          "--b\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:i1@x\"><script>x()"
          "</script>\r\n--b\r\nContent-Type: image/gif\r\nContent-ID: <i1@x>\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--b--\r\n");
  Value m = json(call(http::verb::get, "/api/v1/message/" + id));
  ASSERT_EQ(m.get("Inline")->array.size(), 1u);
  std::string part = m.get("Inline")->array[0].get("PartID")->string;

  Response res = call(http::verb::get, "/api/v1/message/" + id + "/part/" + part);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "GIF89a");
  EXPECT_EQ(res[http::field::content_type], "image/gif");
  EXPECT_EQ(res[http::field::content_disposition], "attachment");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");

  res = call(http::verb::get, "/view/" + id + ".html");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_NE(res.body().find("src=\"/api/v1/message/" + id + "/part/" + part + "\""),
            std::string::npos);
  EXPECT_EQ(res["Content-Security-Policy"].substr(0, 7), "sandbox");
  EXPECT_EQ(res["X-Frame-Options"], "SAMEORIGIN");
  EXPECT_EQ(call(http::verb::get, "/view/" + id + ".pdf").result(), http::status::not_found);
  EXPECT_EQ(call(http::verb::get, "/view/latest.txt").result(), http::status::ok);
}

TEST_F(MailpitApiTest, ReleaseQueuesAndRemoves) {
  std::string id = put("go");
  Response res = call(http::verb::post, "/api/v1/message/" + id + "/release", {},
                      R"({"To":["carol@other.example"]})");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(res.body(), "ok");
  ASSERT_EQ(enqueued_.size(), 1u);
  EXPECT_EQ(res["X-Hikyaku-Queue-Id"], enqueued_[0].id);
  ASSERT_EQ(enqueued_[0].rcpts.size(), 1u);
  EXPECT_EQ(enqueued_[0].rcpts[0].address, "carol@other.example");
  EXPECT_EQ(store_->find(id), nullptr);

  std::string kept = put("stay");
  res = call(http::verb::post, "/api/v1/message/" + kept + "/release", {}, R"({"To":["x y"]})");
  EXPECT_EQ(res.result(), http::status::bad_request) << res.body();
  EXPECT_NE(store_->find(kept), nullptr);
  EXPECT_EQ(call(http::verb::post, "/api/v1/message/" + kept + "/release", {}, "{").result(),
            http::status::bad_request);
  EXPECT_EQ(call(http::verb::post, "/api/v1/message/nope/release").result(),
            http::status::not_found);
}

TEST_F(MailpitApiTest, DeleteByIdsBySearchAndAll) {
  std::string a = put("alpha");
  put("beta");
  put("gamma");
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/messages", {}, R"({"IDs":[")" + a + R"("]})").body(),
            "ok");
  EXPECT_EQ(store_->size(), 2u);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/search", {{"query", "subject:beta"}}).body(), "ok");
  EXPECT_EQ(store_->size(), 1u);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/search", {}).result(), http::status::bad_request);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/messages").body(), "ok");
  EXPECT_EQ(store_->size(), 0u);
}

TEST_F(MailpitApiTest, WaitTimesOutAndBadArguments) {
  auto t0 = std::chrono::steady_clock::now();
  Response res = call(http::verb::get, "/api/hikyaku/wait", {{"timeout", "0.3"}});
  EXPECT_EQ(res.result(), http::status::request_timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  EXPECT_EQ(call(http::verb::get, "/api/hikyaku/wait", {{"timeout", "300.5"}}).result(),
            http::status::bad_request);
  EXPECT_EQ(
      call(http::verb::get, "/api/hikyaku/wait", {{"since", "2026-13-01T00:00:00Z"}}).result(),
      http::status::bad_request);
  put("already here");
  res = call(http::verb::get, "/api/hikyaku/wait", {{"query", "subject:already"}});
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(json(res).get("Subject")->string, "already here");
  // since=now: the one already here does not count.
  res = call(http::verb::get, "/api/hikyaku/wait",
             {{"query", "subject:already"}, {"since", "now"}, {"timeout", "0.2"}});
  EXPECT_EQ(res.result(), http::status::request_timeout);
}

TEST_F(MailpitApiTest, EventsStreamTheNewMessage) {
  Router::Match m = router_.match(http::verb::get, "/api/hikyaku/events");
  ASSERT_NE(m.events, nullptr);
  Request req(http::verb::get, "/api/hikyaku/events", 11);
  Call c{req, "/api/hikyaku/events", {}, {}, "127.0.0.1", true, false, true, "t"};
  Events stream;
  bool done = false;
  asio::co_spawn(io_, (*m.events)(c, stream), [&](std::exception_ptr) { done = true; });
  test::drain(io_, std::chrono::milliseconds(20));
  put("live one");  // runs the io_context: the event is delivered, send() says stop
  test::drain(io_, std::chrono::milliseconds(50));
  EXPECT_TRUE(done);
  ASSERT_EQ(stream.sent.size(), 1u);
  EXPECT_EQ(stream.sent[0].first, "new");
  EXPECT_NE(stream.sent[0].second.find("\"Subject\":\"live one\""), std::string::npos);
}

TEST_F(MailpitApiTest, CaptureOff) {
  Response res = call(http::verb::get, "/api/v1/messages", {}, "", &off_);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(json(res).get("total")->number, 0);
  EXPECT_EQ(call(http::verb::get, "/api/v1/message/latest", {}, "", &off_).result(),
            http::status::not_found);
  EXPECT_EQ(call(http::verb::get, "/api/hikyaku/wait", {}, "", &off_).result(),
            http::status::not_found);
}

}  // namespace
}  // namespace hk::console
