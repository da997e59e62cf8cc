// Tests for hikyaku's own console endpoints (ops_api.cpp) over a fake Backend: the routes, what
// reaches the backend (page bounds, "all", the relay number, SendTo) and the status and
// {"Error"} body of each kind of bad input.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "daemon/console/backend.hpp"
#include "daemon/console/routes.hpp"
#include "tests/support/run.hpp"

namespace hk::console {
namespace {

namespace asio = boost::asio;

class FakeBackend final : public Backend {
 public:
  asio::awaitable<std::string> queue_json(size_t offset, size_t limit) override {
    calls.push_back("queue " + std::to_string(offset) + " " + std::to_string(limit));
    co_return "{\"total\":0,\"messages\":[]}";
  }
  bool retry(const std::string& id) override {
    calls.push_back("retry " + id);
    return id.empty() || id == "KNOWN";
  }
  asio::awaitable<std::error_code> remove(const std::string& id) override {
    calls.push_back("remove " + id);
    if (id == "KNOWN") {
      co_return std::error_code();
    }
    if (id == "BUSY") {
      co_return std::make_error_code(std::errc::device_or_resource_busy);
    }
    co_return std::make_error_code(std::errc::no_such_file_or_directory);
  }
  std::string delivery_log_json(const std::string& id, size_t limit) override {
    calls.push_back("log " + id + " " + std::to_string(limit));
    return "{\"events\":[]}";
  }
  std::string health_json() override { return "{\"Status\":{}}"; }
  size_t relay_count() override { return 2; }
  asio::awaitable<std::string> relay_test_json(size_t relay, std::string send_to) override {
    calls.push_back("relay " + std::to_string(relay) + " " + send_to);
    co_return "{\"Ok\":true}";
  }
  asio::awaitable<std::string> check_dns_json(std::string domain) override {
    calls.push_back("dns " + domain);
    co_return "{\"Domain\":\"" + domain + "\"}";
  }

  std::vector<std::string> calls;
};

struct Answer {
  int status = 0;
  std::string body;
};

// Routes `method target` with `body` through a Router with only the ops endpoints.
Answer call(FakeBackend& backend, http::verb method, const std::string& path,
            std::map<std::string, std::string> query = {}, std::string body = "") {
  Router router;
  add_ops_api(router, backend);
  Request req{method, path, 11};
  req.body() = std::move(body);
  Router::Match m = router.match(method, path);
  if (m.handler == nullptr) {
    return {m.wrong_method ? 405 : 404, ""};
  }
  Call c{req, path, std::move(query), m.params, "127.0.0.1", true, false, true, "token"};
  asio::io_context io;
  std::optional<Response> res = test::run(io, (*m.handler)(c));
  if (!res) {
    return {-1, ""};
  }
  return {static_cast<int>(res->result_int()), res->body()};
}

TEST(OpsApi, QueuePageBounds) {
  FakeBackend b;
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/queue").status, 200);
  EXPECT_EQ(
      call(b, http::verb::get, "/api/hikyaku/queue", {{"start", "5"}, {"limit", "5000"}}).status,
      200);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"queue 0 50", "queue 5 1000"}));
  Answer bad = call(b, http::verb::get, "/api/hikyaku/queue", {{"limit", "-1"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"Error\""), std::string::npos);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/queue", {{"start", "1x"}}).status, 400);
  EXPECT_EQ(b.calls.size(), 2u);
}

TEST(OpsApi, RetryAndRemove) {
  FakeBackend b;
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/queue/KNOWN/retry").status, 200);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/queue/all/retry").status, 200);
  Answer unknown = call(b, http::verb::post, "/api/hikyaku/queue/OTHER/retry");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no queued message OTHER"), std::string::npos);
  EXPECT_EQ(call(b, http::verb::delete_, "/api/hikyaku/queue/KNOWN").body,
            "{\"ID\":\"KNOWN\",\"Ok\":true}");
  EXPECT_EQ(call(b, http::verb::delete_, "/api/hikyaku/queue/BUSY").status, 409);
  EXPECT_EQ(call(b, http::verb::delete_, "/api/hikyaku/queue/GONE").status, 404);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"retry KNOWN", "retry ", "retry OTHER",
                                               "remove KNOWN", "remove BUSY", "remove GONE"}));
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/queue/KNOWN").status, 405);
}

TEST(OpsApi, LogAndHealth) {
  FakeBackend b;
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/log", {{"id", "X"}, {"limit", "3"}}).status,
            200);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/log").status, 200);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/log", {{"limit", "many"}}).status, 400);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"log X 3", "log  100"}));
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/health").body, "{\"Status\":{}}");
}

TEST(OpsApi, RelayTest) {
  FakeBackend b;
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/1/test").status, 200);
  EXPECT_EQ(
      call(b, http::verb::post, "/api/hikyaku/relay/0/test", {}, R"({"SendTo":"Me@Example.NET"})")
          .status,
      200);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/2/test").status, 404);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/x/test").status, 404);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/0/test", {}, "{").status, 400);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/0/test", {}, "[]").status, 400);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/0/test", {}, R"({"SendTo":1})").status,
            400);
  EXPECT_EQ(call(b, http::verb::post, "/api/hikyaku/relay/0/test", {}, R"({"SendTo":"no address"})")
                .status,
            400);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"relay 1 ", "relay 0 Me@example.net"}));
}

TEST(OpsApi, CheckDns) {
  FakeBackend b;
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/dns/Example.ORG.").status, 200);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/dns/localhost").status, 400);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/dns/bad_name.org").status, 400);
  EXPECT_EQ(call(b, http::verb::get, "/api/hikyaku/dns/1.2.3.4").status, 400);
  EXPECT_EQ(b.calls, (std::vector<std::string>{"dns example.org"}));
}

}  // namespace
}  // namespace hk::console
