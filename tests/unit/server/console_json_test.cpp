// Tests for the JSON of hikyaku's own console endpoints (console_json.hpp): the queue page with
// per-recipient state, the delivery log, the relay test, check-dns rows and health. Each output
// is checked whole against its expected text, escaping included.
#include "daemon/server/console_json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace hk::server {
namespace {

using std::chrono::seconds;
const queue::TimePoint kT0{seconds(1718000000)};  // 2024-06-10T06:13:20Z

TEST(ConsoleJson, Rfc3339) {
  EXPECT_EQ(rfc3339(kT0), "2024-06-10T06:13:20Z");
  EXPECT_EQ(rfc3339(queue::TimePoint{}), "1970-01-01T00:00:00Z");
}

TEST(ConsoleJson, QueuePage) {
  QueuedMessage m;
  m.size = 1234;
  m.env.id = "1K0YGE493PY941M693M";
  m.env.created = kT0;
  m.env.from = "alice@example.org";
  queue::Recipient pending;
  pending.address = "bob@example.net";
  pending.attempts = 2;
  pending.last_code = 451;
  pending.last_enhanced = "4.7.1";
  pending.last_text = "greylisted \"try\" later";
  pending.next_attempt = kT0 + seconds(600);
  queue::Recipient fresh;  // never tried: due since it was queued
  fresh.address = "carol@example.net";
  queue::Recipient done;
  done.address = "dave@example.com";
  done.local = true;
  done.state = queue::RcptState::Delivered;
  done.attempts = 1;
  done.last_code = 250;
  done.last_text = "delivered";
  m.env.rcpts = {pending, fresh, done};
  QueuedMessage bounce;
  bounce.env.id = "1K0YGE493PY941M6ZZZ";
  bounce.env.created = kT0;
  EXPECT_EQ(
      queue_page_json(7, 3, {m, bounce}),
      R"({"total":7,"start":3,"count":2,"messages":[{"ID":"1K0YGE493PY941M693M",)"
      R"("Created":"2024-06-10T06:13:20Z","From":"alice@example.org","Size":1234,"Recipients":[)"
      R"({"Address":"bob@example.net","Local":false,"State":"pending","Attempts":2,)"
      R"("LastReply":"451 4.7.1 greylisted \"try\" later","NextAttempt":"2024-06-10T06:23:20Z"},)"
      R"({"Address":"carol@example.net","Local":false,"State":"pending","Attempts":0,)"
      R"("LastReply":"","NextAttempt":"2024-06-10T06:13:20Z"},)"
      R"({"Address":"dave@example.com","Local":true,"State":"delivered","Attempts":1,)"
      R"("LastReply":"250 delivered","NextAttempt":""}]},)"
      R"({"ID":"1K0YGE493PY941M6ZZZ","Created":"2024-06-10T06:13:20Z","From":"","Size":0,)"
      R"("Recipients":[]}]})");
  EXPECT_EQ(queue_page_json(0, 0, {}), R"({"total":0,"start":0,"count":0,"messages":[]})");
}

TEST(ConsoleJson, DeliveryEvents) {
  std::vector<queue::DeliveryEvent> events = {
      {kT0 + seconds(5), "ID2", "bob@example.net", queue::Route::Relay,
       queue::EventResult::Delivered, "250 2.0.0 queued as 12\x01"},
      {kT0, "ID1", "bob@example.net", queue::Route::Mx, queue::EventResult::Deferred,
       "connection refused by 127.0.0.1:1"},
      {kT0, "ID1", "x@example.com", queue::Route::Maildir, queue::EventResult::Dsn,
       "failure DSN to a@b"}};
  EXPECT_EQ(delivery_events_json(events),
            R"({"events":[{"Time":"2024-06-10T06:13:25Z","ID":"ID2","Recipient":"bob@example.net",)"
            R"("Via":"relay","Result":"delivered","Reply":"250 2.0.0 queued as 12\u0001"},)"
            R"({"Time":"2024-06-10T06:13:20Z","ID":"ID1","Recipient":"bob@example.net","Via":"mx",)"
            R"("Result":"deferred","Reply":"connection refused by 127.0.0.1:1"},)"
            R"({"Time":"2024-06-10T06:13:20Z","ID":"ID1","Recipient":"x@example.com",)"
            R"("Via":"maildir","Result":"dsn","Reply":"failure DSN to a@b"}]})");
  EXPECT_EQ(delivery_events_json({}), R"({"events":[]})");
}

TEST(ConsoleJson, RelayTest) {
  config::Relay relay;
  relay.host = "127.0.0.1";
  relay.port = 2525;
  std::vector<delivery::ProbeStep> good = {{"resolve", true, "127.0.0.1 -> 127.0.0.1"},
                                           {"connect", true, "127.0.0.1:2525"},
                                           {"quit", false, "no 221"}};
  EXPECT_EQ(relay_test_result_json(0, relay, good, true, ""),
            R"({"Relay":0,"Host":"127.0.0.1","Port":2525,"Steps":[)"
            R"({"Step":"resolve","Ok":true,"Detail":"127.0.0.1 -> 127.0.0.1"},)"
            R"({"Step":"connect","Ok":true,"Detail":"127.0.0.1:2525"},)"
            R"({"Step":"quit","Ok":false,"Detail":"no 221"}],"Ok":true})");
  // After a failure the goodbye is left out, and the first failed step is the Error.
  std::vector<delivery::ProbeStep> bad = {{"connect", true, "127.0.0.1:2525"},
                                          {"auth", false, "535 5.7.8 bad credentials"},
                                          {"quit", true, "221 bye"}};
  EXPECT_EQ(relay_test_result_json(1, relay, bad, false, "auth: 535 5.7.8 bad credentials"),
            R"({"Relay":1,"Host":"127.0.0.1","Port":2525,"Steps":[)"
            R"({"Step":"connect","Ok":true,"Detail":"127.0.0.1:2525"},)"
            R"({"Step":"auth","Ok":false,"Detail":"535 5.7.8 bad credentials"}],"Ok":false,)"
            R"("Error":"auth: 535 5.7.8 bad credentials"})");
}

TEST(ConsoleJson, DnsRows) {
  std::vector<dns_check::Row> rows = {{"MX", "ok", "10 mx.example.org."},
                                      {"MTA-STS", "none", "no _mta-sts record"}};
  EXPECT_EQ(dns_rows_json("example.org", rows),
            R"({"Domain":"example.org","Rows":[{"What":"MX","Status":"ok",)"
            R"("Detail":"10 mx.example.org."},{"What":"MTA-STS","Status":"none",)"
            R"("Detail":"no _mta-sts record"}],"Ok":true})");
  rows.push_back({"SPF", "MISSING", "expected a v=spf1 record"});
  EXPECT_NE(dns_rows_json("example.org", rows).find(R"(],"Ok":false})"), std::string::npos);
}

TEST(ConsoleJson, Health) {
  config::Relay relay;
  relay.host = "smtp.example.net";
  relay.port = 587;
  relay.username = "me@example.net";
  relay.domains = {"example.com"};
  EXPECT_EQ(health_page_json(R"({"version":"1"})", {"127.0.0.1:8025"}, {"example.org", "b.test"},
                             {{"example.org", "s1", "ed25519"}}, {relay}),
            R"({"Status":{"version":"1"},"Console":["127.0.0.1:8025"],)"
            R"("Domains":["example.org","b.test"],)"
            R"("DkimKeys":[{"Domain":"example.org","Selector":"s1","Algorithm":"ed25519"}],)"
            R"("Relays":[{"Relay":0,"Host":"smtp.example.net","Port":587,"Tls":"starttls",)"
            R"("Username":"me@example.net","Domains":["example.com"]}]})");
  EXPECT_EQ(health_page_json("", {}, {}, {}, {}),
            R"({"Status":{},"Console":[],"Domains":[],"DkimKeys":[],"Relays":[]})");
}

}  // namespace
}  // namespace hk::server
