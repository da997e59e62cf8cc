// Tests for the console's security decisions: loopback addresses, the Host check (DNS
// rebinding), the CSRF rule, Basic credentials, the gate's order, and the default header fields.
#include "daemon/console/security.hpp"

#include "gtest/gtest.h"
#include "lib/base/base64.hpp"

namespace hk::console {
namespace {

namespace ip = boost::asio::ip;

TEST(Loopback, OnlyLoopbackAddresses) {
  EXPECT_TRUE(is_loopback(ip::make_address("127.0.0.1")));
  EXPECT_TRUE(is_loopback(ip::make_address("127.255.0.9")));
  EXPECT_TRUE(is_loopback(ip::make_address("::1")));
  EXPECT_TRUE(is_loopback(ip::make_address("::ffff:127.0.0.1")));
  EXPECT_FALSE(is_loopback(ip::make_address("192.0.2.1")));
  EXPECT_FALSE(is_loopback(ip::make_address("128.0.0.1")));
  EXPECT_FALSE(is_loopback(ip::make_address("10.127.0.1")));
  EXPECT_FALSE(is_loopback(ip::make_address("::2")));
  EXPECT_FALSE(is_loopback(ip::make_address("::ffff:192.0.2.1")));
  EXPECT_FALSE(is_loopback(ip::make_address("::")));
  EXPECT_FALSE(is_loopback(ip::make_address("0.0.0.0")));
}

TEST(Host, HostOfStripsPortAndCase) {
  EXPECT_EQ(host_of("LocalHost:8025"), "localhost");
  EXPECT_EQ(host_of("mail.example.com"), "mail.example.com");
  EXPECT_EQ(host_of("mail.example.com."), "mail.example.com");
  EXPECT_EQ(host_of("[::1]:8025"), "[::1]");
  EXPECT_EQ(host_of("[::1]"), "[::1]");
  EXPECT_EQ(host_of(" 127.0.0.1:80 "), "127.0.0.1");
  for (const char* bad :
       {"", ":80", "[::1", "[::1]x", "a:b", "a b", "evil.example/x", "u@h", "[::1]:8a"}) {
    EXPECT_EQ(host_of(bad), "") << bad;
  }
}

TEST(Host, AllowedNames) {
  const std::vector<std::string> allowed = {"mail.example.com", "Console.Example.NET", "::1",
                                            "192.0.2.7"};
  for (const char* ok : {"localhost", "localhost:8025", "127.0.0.1:8025", "[::1]:8025", "[0:0::1]",
                         "mail.example.com", "MAIL.example.com:8025", "console.example.net",
                         "192.0.2.7:8025", "198.51.100.4", "198.51.100.4:8025"}) {
    EXPECT_TRUE(host_allowed(ok, allowed, "198.51.100.4")) << ok;
  }
  // DNS rebinding: a name of the attacker's that now points at us.
  for (const char* bad :
       {"evil.example", "evil.example:8025", "localhost.evil.example",
        "mail.example.com.evil.example", "127.0.0.2", "[::2]", "", "a b", "198.51.100.5"}) {
    EXPECT_FALSE(host_allowed(bad, allowed, "198.51.100.4")) << bad;
  }
  EXPECT_TRUE(host_allowed("[2001:db8::1]:443", {}, "2001:db8::1"));
  EXPECT_FALSE(host_allowed("[2001:db8::2]", {}, "2001:db8::1"));
}

Request request(http::verb method, std::vector<std::pair<std::string, std::string>> fields) {
  Request req(method, "/api/v1/messages", 11);
  for (auto& [k, v] : fields) {
    req.set(k, v);
  }
  return req;
}

TEST(Csrf, Decisions) {
  const std::string token = "0123456789abcdef";
  struct Case {
    http::verb method;
    std::vector<std::pair<std::string, std::string>> fields;
    bool ok;
  };
  const Case cases[] = {
      // Reads never need the token.
      {http::verb::get, {{"Origin", "http://evil.example"}}, true},
      {http::verb::head, {{"Cookie", "a=b"}}, true},
      // Non-browser clients (curl, test suites) pass.
      {http::verb::post, {}, true},
      {http::verb::delete_, {{"User-Agent", "curl/7.88"}}, true},
      {http::verb::post, {{"Sec-Fetch-Site", "none"}}, true},
      // Browsers need the token, for each state change.
      {http::verb::post, {{"Origin", "http://evil.example"}}, false},
      {http::verb::put, {{"Origin", "http://localhost:8025"}}, false},
      {http::verb::patch, {{"Sec-Fetch-Site", "same-origin"}}, false},
      {http::verb::delete_, {{"Cookie", "x=1"}}, false},
      {http::verb::post, {{"Sec-Fetch-Site", "cross-site"}}, false},
      {http::verb::post, {{"Origin", "http://evil.example"}, {"X-CSRF-Token", "wrong"}}, false},
      {http::verb::post, {{"Origin", "http://evil.example"}, {"X-CSRF-Token", ""}}, false},
      {http::verb::post,
       {{"Origin", "http://evil.example"}, {"X-CSRF-Token", "0123456789abcdeF"}},
       false},
      {http::verb::post, {{"Origin", "http://evil.example"}, {"X-CSRF-Token", token}}, true},
      {http::verb::delete_, {{"Sec-Fetch-Site", "same-origin"}, {"X-CSRF-Token", token}}, true},
  };
  for (const Case& c : cases) {
    Request req = request(c.method, c.fields);
    EXPECT_EQ(csrf_ok(req, token), c.ok)
        << http::to_string(c.method) << " " << (c.fields.empty() ? "" : c.fields[0].first);
  }
  // Without a token nothing from a browser passes.
  Request req = request(http::verb::post, {{"Origin", "x"}, {"X-CSRF-Token", ""}});
  EXPECT_FALSE(csrf_ok(req, ""));
}

TEST(Basic, ParsesCredentials) {
  auto c = parse_basic("Basic " + base::base64_encode("admin:s3cret:with:colons"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "admin");
  EXPECT_EQ(c->password, "s3cret:with:colons");
  c = parse_basic("basic   " + base::base64_encode("admin:"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "");
  c = parse_basic("BASIC " + base::base64_encode("u:\xc3\xa9t\xc3\xa9"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "\xc3\xa9t\xc3\xa9");
  for (const std::string& bad :
       {std::string("Bearer abc"), std::string("Basic"), std::string("Basic "),
        std::string("Basic !!!!"), "Basic " + base::base64_encode("nocolon"),
        "Basicx " + base::base64_encode("a:b"), std::string("")}) {
    EXPECT_FALSE(parse_basic(bad)) << bad;
  }
}

TEST(Gate, Order) {
  // The Host check comes first, for every client.
  EXPECT_EQ(gate(false, true, false, true), Gate::BadHost);
  EXPECT_EQ(gate(false, false, true, true), Gate::BadHost);
  // Loopback: neither TLS nor password.
  EXPECT_EQ(gate(true, true, false, false), Gate::Pass);
  EXPECT_EQ(gate(true, true, true, true), Gate::Pass);
  // Remote: TLS, then a configured password, then the password itself.
  EXPECT_EQ(gate(true, false, false, true), Gate::NeedTls);
  EXPECT_EQ(gate(true, false, false, false), Gate::NeedTls);
  EXPECT_EQ(gate(true, false, true, false), Gate::NoPassword);
  EXPECT_EQ(gate(true, false, true, true), Gate::NeedPassword);
}

TEST(Headers, DefaultsUnlessSet) {
  Response res(http::status::ok, 11);
  add_security_headers(res);
  EXPECT_EQ(res["Content-Security-Policy"], kContentSecurityPolicy);
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_EQ(res["Cache-Control"], "no-store");
  Response own(http::status::ok, 11);
  own.set("Content-Security-Policy", "sandbox; default-src 'none'");
  own.set(http::field::cache_control, "max-age=3600");
  add_security_headers(own);
  EXPECT_EQ(own["Content-Security-Policy"], "sandbox; default-src 'none'");
  EXPECT_EQ(own["Cache-Control"], "max-age=3600");
  EXPECT_EQ(own["X-Frame-Options"], "DENY");
}

}  // namespace
}  // namespace hk::console
