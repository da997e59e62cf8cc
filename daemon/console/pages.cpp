// The console's pages: GET / answers the single page (assets/index.html) with this process's CSRF
// token in a <meta> tag, and GET /assets/{name} the built-in static files (assets.hpp).
//
// SECURITY: the page is the only place the CSRF token appears; it is served with no-store (the
// server's default) so that no cache keeps it. Everything else here is static and public to
// whoever may reach the console at all. The scripts run under the server's Content-Security-Policy
// (script-src 'self', style-src 'self'): index.html has no inline script or style, and app.js
// inserts all message data as text (textContent), never as markup.
#include "daemon/console/pages.hpp"

#include <string>
#include <string_view>

#include "daemon/console/assets.hpp"
#include "daemon/console/routes.hpp"

namespace hk::console {

namespace {

// One year, the longest lifetime caches honour (RFC 9111 §5.2.2.1 lets any value through;
// browsers cap at about a year). Only URLs that carry the file's digest get it, so a new build
// with a changed file is a new URL.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// An asset asked for without the digest (a bookmark, curl): cached, but checked every time
// against its ETag (RFC 9111 §5.2.2.4), so an upgrade is seen at once.
constexpr std::string_view kRevalidate = "no-cache";

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

// Does an If-None-Match field value (RFC 9110 §13.1.2: "*" or a list of entity tags, weak ones
// compared weakly) name `etag`?
bool etag_matches(std::string_view field, std::string_view etag) {
  if (field.find('*') != std::string_view::npos) {
    return true;
  }
  size_t pos = 0;
  while ((pos = field.find(etag, pos)) != std::string_view::npos) {
    // A whole tag: preceded by start, space, comma or the "W/" prefix.
    bool starts =
        pos == 0 || field[pos - 1] == ' ' || field[pos - 1] == ',' || field[pos - 1] == '/';
    size_t end = pos + etag.size();
    bool ends = end == field.size() || field[end] == ' ' || field[end] == ',';
    if (starts && ends) {
      return true;
    }
    pos = end;
  }
  return false;
}

boost::asio::awaitable<Response> serve_index(Call& call) {
  const EmbeddedAsset* index = find_asset("index.html");
  if (index == nullptr) {
    co_return error_response(call, http::status::internal_server_error,
                             "the console's index.html is not built into this program");
  }
  co_return make_response(call, http::status::ok, "text/html; charset=utf-8",
                          render_index(index->body, call.csrf_token));
}

boost::asio::awaitable<Response> serve_asset(Call& call) {
  const EmbeddedAsset* asset = find_asset(call.params["name"]);
  // index.html is served only through GET /, where its placeholders are filled in.
  if (asset == nullptr || asset->name == "index.html") {
    co_return error_response(call, http::status::not_found, "no such asset");
  }
  std::string etag = asset_etag(*asset);
  auto v = call.query.find("v");
  bool versioned = v != call.query.end() && v->second == asset_version(*asset);
  std::string_view cache = versioned ? kImmutable : kRevalidate;

  auto inm = call.req.find(http::field::if_none_match);
  if (inm != call.req.end() && etag_matches(inm->value(), etag)) {
    Response res = make_response(call, http::status::not_modified, "", "");
    res.erase(http::field::content_type);
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, cache);
    co_return res;
  }
  Response res = make_response(call, http::status::ok, std::string(asset_content_type(asset->name)),
                               std::string(asset->body));
  res.set(http::field::etag, etag);
  res.set(http::field::cache_control, cache);
  co_return res;
}

}  // namespace

const EmbeddedAsset* find_asset(std::string_view name) {
  for (const EmbeddedAsset& a : embedded_assets()) {
    if (a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

std::string_view asset_content_type(std::string_view name) {
  struct Type {
    std::string_view suffix, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},  // RFC 9239 §6
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (name.size() > t.suffix.size() && name.ends_with(t.suffix)) {
      return t.type;
    }
  }
  return "application/octet-stream";
}

std::string asset_version(const EmbeddedAsset& asset) {
  return std::string(asset.sha256.substr(0, 16));
}

std::string asset_etag(const EmbeddedAsset& asset) {
  return "\"" + std::string(asset.sha256) + "\"";
}

std::string render_index(std::string_view tmpl, std::string_view csrf_token) {
  std::string out;
  out.reserve(tmpl.size() + 256);
  size_t pos = 0;
  for (;;) {
    size_t open = tmpl.find("{{", pos);
    size_t close = open == std::string_view::npos ? open : tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out += tmpl.substr(pos);
      return out;
    }
    out += tmpl.substr(pos, open - pos);
    std::string_view name = tmpl.substr(open + 2, close - open - 2);
    if (name == "csrf_token") {
      append_html_escaped(out, csrf_token);
    } else if (name.starts_with("asset:")) {
      // "/assets/app.js?v=<digest>": a new build with a changed file is a new URL, so the file
      // itself may be cached for a year.
      std::string_view file = name.substr(6);
      const EmbeddedAsset* asset = find_asset(file);
      std::string url = "/assets/" + std::string(file);
      if (asset != nullptr) {
        url += "?v=" + asset_version(*asset);
      }
      append_html_escaped(out, url);
    } else {
      out += tmpl.substr(open, close + 2 - open);  // not ours: left as it is
    }
    pos = close + 2;
  }
}

void add_pages(Router& router) {
  router.add(http::verb::get, "/", serve_index);
  router.add(http::verb::get, "/assets/{name}", serve_asset);
}

}  // namespace hk::console
