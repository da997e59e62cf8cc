// The status reply: every field for a known input, JSON escaping of what files and errors hold,
// and the bounds that keep it below the control client's reply limit.
#include "daemon/server/status.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "lib/control/protocol.hpp"

namespace hk::server {
namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

TEST(StatusJson, EveryField) {
  StatusInput in;
  in.version = "1.2.3";
  in.hostname = "mx.example.org";
  in.started = kNow - 3700s;
  in.now = kNow;
  in.listeners = {{"smtp", "127.0.0.1:25"}, {"control", "/var/lib/hikyaku/control.sock"}};
  in.queue_messages = 3;
  in.queue_in_flight = 1;
  in.queue_oldest = kNow - 90s;
  in.delivered = 10;
  in.deferred = 2;
  in.bounced = 1;
  in.expired = 0;
  in.dsn_sent = 1;
  in.certificates = {{"mx.example.org", {"mx.example.org"}, kNow + 5 * 24h + 1h, true}};
  in.reload_errors = {{"dkim", kNow - 60s, "bad \"key\"\nline", true}};
  std::string pid = std::to_string(::getpid());
  EXPECT_EQ(status_json(in),
            "{\"version\":\"1.2.3\",\"hostname\":\"mx.example.org\",\"pid\":" + pid +
                ",\"started\":1799996300,\"uptime_seconds\":3700,"
                "\"listeners\":[{\"kind\":\"smtp\",\"address\":\"127.0.0.1:25\"},"
                "{\"kind\":\"control\",\"address\":\"/var/lib/hikyaku/control.sock\"}],"
                "\"queue\":{\"messages\":3,\"in_flight\":1,\"oldest_age_seconds\":90},"
                "\"last_hour\":{\"delivered\":10,\"deferred\":2,\"bounced\":1,\"expired\":0,"
                "\"dsn_sent\":1},"
                "\"certificates\":[{\"name\":\"mx.example.org\",\"not_after\":1800435600,"
                "\"days_left\":5,\"default\":true}],\"certificates_total\":1,"
                "\"reload_errors\":[{\"what\":\"dkim\",\"at\":1799999940,"
                "\"error\":\"bad \\\"key\\\"\\nline\",\"resolved\":true}]}");
}

TEST(StatusJson, EmptyQueueAndNothingElse) {
  StatusInput in;
  in.started = kNow;
  in.now = kNow;
  std::string json = status_json(in);
  EXPECT_NE(json.find("\"queue\":{\"messages\":0,\"in_flight\":0,\"oldest_age_seconds\":0}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"certificates\":[],\"certificates_total\":0,\"reload_errors\":[]}"),
            std::string::npos)
      << json;
}

TEST(StatusJson, BoundedBelowTheClientLimit) {
  StatusInput in;
  in.started = kNow;
  in.now = kNow;
  for (int i = 0; i < 1000; ++i) {
    in.certificates.push_back({std::string(60, 'a') + std::to_string(i), {}, kNow, false});
  }
  for (const char* what : {"certs", "dkim", "domains", "config", "srs"}) {
    in.reload_errors.push_back({what, kNow, std::string(10000, 'e'), false});
  }
  std::string json = status_json(in);
  EXPECT_LT(json.size(), control::kMaxReply);
  EXPECT_NE(json.find("\"certificates_total\":1000"), std::string::npos);
  EXPECT_EQ(json.find(std::string(kMaxErrorText + 1, 'e')), std::string::npos);
}

}  // namespace
}  // namespace hk::server
