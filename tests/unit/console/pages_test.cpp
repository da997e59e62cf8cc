// The console's pages (pages.cpp): the built-in assets, their types and cache validators, the
// filling-in of index.html, and what the assets must never contain (CSP, no markup from data);
// then the two routes answered through a Router as the server calls them.
#include "daemon/console/pages.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cctype>
#include <map>
#include <string>

#include "daemon/console/routes.hpp"

namespace hk::console {
namespace {

TEST(Pages, EveryAssetIsBuiltInWithAKnownType) {
  for (const char* name : {"index.html", "app.js", "app.css", "favicon.svg"}) {
    const EmbeddedAsset* a = find_asset(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_FALSE(a->body.empty()) << name;
    EXPECT_EQ(a->sha256.size(), 64u) << name;
    EXPECT_NE(asset_content_type(name), "application/octet-stream") << name;
  }
  EXPECT_EQ(find_asset("nope.js"), nullptr);
  EXPECT_EQ(find_asset("../app.js"), nullptr);
}

TEST(Pages, ContentTypes) {
  EXPECT_EQ(asset_content_type("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset_content_type("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(asset_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(asset_content_type("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(asset_content_type("x.bin"), "application/octet-stream");
  EXPECT_EQ(asset_content_type(".js"), "application/octet-stream");
}

TEST(Pages, IndexGetsTheTokenEscapedAndVersionedAssetUrls) {
  std::string out = render_index(
      "<meta content=\"{{csrf_token}}\"><script src=\"{{asset:app.js}}\"></script>{{other}}{{",
      "a\"<b>&");
  EXPECT_NE(out.find("content=\"a&quot;&lt;b&gt;&amp;\""), std::string::npos) << out;
  const EmbeddedAsset* js = find_asset("app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_NE(out.find("src=\"/assets/app.js?v=" + asset_version(*js) + "\""), std::string::npos)
      << out;
  EXPECT_NE(out.find("{{other}}{{"), std::string::npos) << out;
  EXPECT_EQ(asset_version(*js).size(), 16u);
  EXPECT_EQ(asset_etag(*js), "\"" + std::string(js->sha256) + "\"");
}

TEST(Pages, TheBuiltInIndexHasEveryPlaceholderFilled) {
  const EmbeddedAsset* index = find_asset("index.html");
  ASSERT_NE(index, nullptr);
  std::string out = render_index(index->body, "TOKEN123");
  EXPECT_EQ(out.find("{{"), std::string::npos) << out;
  EXPECT_NE(out.find("<meta name=\"csrf-token\" content=\"TOKEN123\">"), std::string::npos);
  for (const char* name : {"app.js", "app.css", "favicon.svg"}) {
    EXPECT_NE(out.find(std::string("/assets/") + name + "?v=" + asset_version(*find_asset(name))),
              std::string::npos)
        << name;
  }
}

// The server's CSP (script-src 'self'; style-src 'self') forbids inline scripts, styles and
// handlers: the page must not need them.
TEST(Pages, IndexHasNoInlineScriptOrStyle) {
  std::string_view html = find_asset("index.html")->body;
  EXPECT_EQ(html.find("<style"), std::string_view::npos);
  EXPECT_EQ(html.find("style="), std::string_view::npos);
  // No event handler attribute: " on" + letters + "=".
  for (size_t at = html.find(" on"); at != std::string_view::npos; at = html.find(" on", at + 1)) {
    size_t end = at + 3;
    while (end < html.size() && std::isalpha(static_cast<unsigned char>(html[end])) != 0) {
      ++end;
    }
    EXPECT_FALSE(end > at + 3 && end < html.size() && html[end] == '=') << html.substr(at, 20);
  }
  size_t pos = 0;
  while ((pos = html.find("<script", pos)) != std::string_view::npos) {
    size_t end = html.find('>', pos);
    EXPECT_NE(html.substr(pos, end - pos).find(" src="), std::string_view::npos);
    EXPECT_EQ(html.substr(end + 1, 9), "</script>");
    pos = end;
  }
}

// Message data goes into the page as text: the script has no way to insert markup at all.
TEST(Pages, TheScriptNeverInsertsMarkup) {
  std::string_view js = find_asset("app.js")->body;
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function", "srcdoc", "createContextualFragment"}) {
    EXPECT_EQ(js.find(sink), std::string_view::npos) << sink;
  }
}

struct Answer {
  Response res;
  bool found = false;
};

Answer get(Router& router, std::string target, std::string if_none_match = "") {
  Request req{http::verb::get, target, 11};
  if (!if_none_match.empty()) {
    req.set(http::field::if_none_match, if_none_match);
  }
  std::string path = target.substr(0, target.find('?'));
  Router::Match m = router.match(http::verb::get, path);
  Answer a;
  if (m.handler == nullptr) {
    return a;
  }
  a.found = true;
  std::map<std::string, std::string> query;
  if (target.find("?v=") != std::string::npos) {
    query["v"] = target.substr(target.find("?v=") + 3);
  }
  Call call{req, path, query, m.params, "127.0.0.1", true, false, false, "tok-42"};
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, (*m.handler)(call), boost::asio::use_future);
  io.run();
  a.res = f.get();
  return a;
}

TEST(PagesRoutes, IndexCarriesTheTokenAndIsNotCached) {
  Router router;
  add_pages(router);
  Answer a = get(router, "/");
  ASSERT_TRUE(a.found);
  EXPECT_EQ(a.res.result(), http::status::ok);
  EXPECT_EQ(a.res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(a.res.body().find("<meta name=\"csrf-token\" content=\"tok-42\">"), std::string::npos);
  // The server's default (no-store) applies: the page holds the token.
  EXPECT_EQ(a.res.find(http::field::cache_control), a.res.end());
}

TEST(PagesRoutes, AssetsWithTypeEtagAndCaching) {
  Router router;
  add_pages(router);
  const EmbeddedAsset* js = find_asset("app.js");
  Answer a = get(router, "/assets/app.js?v=" + asset_version(*js));
  ASSERT_TRUE(a.found);
  EXPECT_EQ(a.res.result(), http::status::ok);
  EXPECT_EQ(a.res[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(a.res.body(), js->body);
  EXPECT_EQ(a.res[http::field::etag], asset_etag(*js));
  EXPECT_EQ(a.res[http::field::cache_control], "public, max-age=31536000, immutable");

  Answer plain = get(router, "/assets/app.js");
  EXPECT_EQ(plain.res[http::field::cache_control], "no-cache");
  Answer old = get(router, "/assets/app.js?v=0123456789abcdef");
  EXPECT_EQ(old.res[http::field::cache_control], "no-cache");

  Answer revalidated = get(router, "/assets/app.js", "W/\"x\", " + asset_etag(*js));
  EXPECT_EQ(revalidated.res.result(), http::status::not_modified);
  EXPECT_TRUE(revalidated.res.body().empty());
  EXPECT_EQ(revalidated.res[http::field::etag], asset_etag(*js));
  Answer changed = get(router, "/assets/app.js", "\"" + std::string(64, '0') + "\"");
  EXPECT_EQ(changed.res.result(), http::status::ok);

  EXPECT_EQ(get(router, "/assets/nope.js").res.result(), http::status::not_found);
  // index.html only through / (its placeholders filled in).
  EXPECT_EQ(get(router, "/assets/index.html").res.result(), http::status::not_found);
}

}  // namespace
}  // namespace hk::console
