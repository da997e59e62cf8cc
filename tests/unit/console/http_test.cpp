// Tests for the console's pure HTTP parts: the Router (literal and {NAME} segments, the rest
// pattern, first match wins, 405 with Allow, HEAD as GET), percent-decoding, request targets,
// the response helpers and server-sent event framing.
#include "daemon/console/http.hpp"

#include "gtest/gtest.h"

namespace hk::console {
namespace {

Handler tagged(std::string tag) {
  return [tag](Call& call) -> boost::asio::awaitable<Response> {
    co_return make_response(call, http::status::ok, "text/plain", tag);
  };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router r;
  r.add(http::verb::get, "/api/v1/messages", tagged("list"));
  r.add(http::verb::get, "/api/v1/message/{ID}", tagged("one"));
  r.add(http::verb::get, "/api/v1/message/{ID}/part/{PartID}", tagged("part"));
  r.add(http::verb::get, "/", tagged("root"));

  auto m = r.match(http::verb::get, "/api/v1/messages");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_TRUE(m.params.empty());

  m = r.match(http::verb::get, "/api/v1/message/abc123");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("ID"), "abc123");

  m = r.match(http::verb::get, "/api/v1/message/x/part/1.2");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("ID"), "x");
  EXPECT_EQ(m.params.at("PartID"), "1.2");

  EXPECT_NE(r.match(http::verb::get, "/").handler, nullptr);
  // No partial, prefix or trailing-slash matches; an empty segment fills no parameter.
  EXPECT_EQ(r.match(http::verb::get, "/api/v1").handler, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/messages/").handler, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/message/").handler, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/api/v1/message/a/b").handler, nullptr);
  EXPECT_FALSE(r.match(http::verb::get, "/nothing").wrong_method);
}

TEST(Router, FirstMatchWins) {
  Router r;
  r.add(http::verb::get, "/api/v1/message/latest", tagged("latest"));
  r.add(http::verb::get, "/api/v1/message/{ID}", tagged("one"));
  auto m = r.match(http::verb::get, "/api/v1/message/latest");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_TRUE(m.params.empty());  // the literal route, listed first
  m = r.match(http::verb::get, "/api/v1/message/other");
  EXPECT_EQ(m.params.at("ID"), "other");
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router r;
  r.add(http::verb::get, "/api/v1/messages", tagged("list"));
  r.add(http::verb::delete_, "/api/v1/messages", tagged("delete"));
  r.add(http::verb::post, "/api/v1/message/{ID}/release", tagged("release"));
  auto m = r.match(http::verb::put, "/api/v1/messages");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.wrong_method);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
  m = r.match(http::verb::get, "/api/v1/message/7/release");
  EXPECT_TRUE(m.wrong_method);
  EXPECT_EQ(m.allow, "POST");
  // The method that exists is found, whatever order the routes came in.
  m = r.match(http::verb::delete_, "/api/v1/messages");
  EXPECT_NE(m.handler, nullptr);
  EXPECT_FALSE(m.wrong_method);
}

TEST(Router, HeadMatchesGet) {
  Router r;
  r.add(http::verb::get, "/x", tagged("x"));
  EXPECT_NE(r.match(http::verb::head, "/x").handler, nullptr);
  EXPECT_TRUE(r.match(http::verb::post, "/x").wrong_method);
}

TEST(Router, RestPatternTakesTheRestOfThePath) {
  Router r;
  r.add(http::verb::get, "/assets/{PATH*}", tagged("asset"));
  auto m = r.match(http::verb::get, "/assets/js/app.js");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("PATH"), "js/app.js");
  m = r.match(http::verb::get, "/assets/app.css");
  EXPECT_EQ(m.params.at("PATH"), "app.css");
  EXPECT_EQ(r.match(http::verb::get, "/assets/").handler, nullptr);
  EXPECT_EQ(r.match(http::verb::get, "/assets").handler, nullptr);
}

TEST(Router, EventsRoutesAreGet) {
  Router r;
  r.add_events("/api/hikyaku/events",
               [](Call&, EventStream&) -> boost::asio::awaitable<void> { co_return; });
  auto m = r.match(http::verb::get, "/api/hikyaku/events");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_NE(m.events, nullptr);
  EXPECT_TRUE(r.match(http::verb::post, "/api/hikyaku/events").wrong_method);
}

TEST(PercentDecode, DecodesAndRejects) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%e2%82%AC", false), "a b/c\xe2\x82\xac");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%2B", true), "+");
  EXPECT_EQ(percent_decode("", true), "");
  EXPECT_EQ(percent_decode("%00", false), std::string(1, '\0'));
  for (const char* bad : {"%", "%2", "%zz", "a%g0", "%%", "x%2"}) {
    EXPECT_EQ(percent_decode(bad, false), std::nullopt) << bad;
  }
}

TEST(ParseTarget, PathAndQuery) {
  auto t =
      parse_target("/api/v1/search?query=subject%3A%22hi%20there%22+x&start=10&limit=&start=99");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/api/v1/search");
  EXPECT_EQ(t->query.at("query"), "subject:\"hi there\" x");
  EXPECT_EQ(t->query.at("start"), "10");  // the first of a repeated name
  EXPECT_EQ(t->query.at("limit"), "");
  t = parse_target("/view/a%20b.html?images=1&&flag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/view/a b.html");
  EXPECT_EQ(t->query.at("images"), "1");
  EXPECT_EQ(t->query.at("flag"), "");
  t = parse_target("/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/");
  EXPECT_TRUE(t->query.empty());
  EXPECT_FALSE(parse_target("http://example.com/"));
  EXPECT_FALSE(parse_target("*"));
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("/a%zz"));
  EXPECT_FALSE(parse_target("/a?q=%"));
}

TEST(Responses, HelpersFillTheFields) {
  Request req(http::verb::get, "/", 11);
  req.keep_alive(true);
  Call call{req, "/", {}, {}, "127.0.0.1", true, false, false, "tok"};
  Response res = json_response(call, "{\"a\":1}");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(res[http::field::content_length], "7");
  EXPECT_TRUE(res.keep_alive());
  res = error_response(call, http::status::not_found, "no \"such\" message");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(res.body(), "{\"Error\":\"no \\\"such\\\" message\"}");
  Request old(http::verb::get, "/", 10);
  Call call10{old, "/", {}, {}, "127.0.0.1", true, false, false, "tok"};
  res = make_response(call10, http::status::ok, "text/plain", "x");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(res.version(), 10u);
}

TEST(Sse, FramesEventsAndLines) {
  EXPECT_EQ(sse_event("new", "{\"ID\":\"a\"}"), "event: new\ndata: {\"ID\":\"a\"}\n\n");
  EXPECT_EQ(sse_event("new", "a\nb\r\nc\rd"), "event: new\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(sse_event("", "x"), "data: x\n\n");
  EXPECT_EQ(sse_event("e", ""), "event: e\ndata: \n\n");
  EXPECT_EQ(sse_event("e", "x\n"), "event: e\ndata: x\ndata: \n\n");
  // A line break in the event name cannot smuggle a field in.
  EXPECT_EQ(sse_event("bad\ndata: evil", "x"), "event: bad\ndata: x\n\n");
  EXPECT_EQ(kSsePing, ": ping\n\n");
}

}  // namespace
}  // namespace hk::console
