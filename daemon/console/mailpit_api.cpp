// Mailpit's /api/v1 (the common part) over the capture store, hikyaku's wait-for-message call and
// live events, and the message views the console's iframe loads. The shapes and their meaning
// are in docs/api.md; the JSON is written by message_json.cpp.
//
// Every handler is a plain lambda (it captures only the store pointer) that calls a coroutine
// taking its arguments by value or by the Call the server keeps alive for the request: no
// coroutine lambda with captures (STYLE.md).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <deque>
#include <limits>

#include "daemon/capture/capture_store.hpp"
#include "daemon/console/json_in.hpp"
#include "daemon/console/message_json.hpp"
#include "daemon/console/routes.hpp"
#include "daemon/console/view_html.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/log.hpp"
#include "lib/base/text.hpp"

namespace hk::console {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using capture::CaptureStore;
using capture::SummaryPtr;

constexpr size_t kDefaultLimit = 50;  // Mailpit's default page
constexpr auto kDefaultWait = std::chrono::seconds(30);
constexpr auto kMaxWait = std::chrono::seconds(300);
constexpr auto kEventsPing = std::chrono::seconds(20);
// Events queued for one slow client before its stream is closed (EventSource reconnects, and
// the page reloads the list when it does).
constexpr size_t kMaxPendingEvents = 1000;
constexpr char kNoCapture[] = "capture mode is off ([capture] enabled = false)";

Response text_response(const Call& call, http::status status, std::string body) {
  return make_response(call, status, "text/plain; charset=utf-8", std::move(body));
}

// A query parameter that must be a non-negative decimal integer; `fallback` when absent or empty.
bool size_param(const Call& call, const char* name, size_t fallback, size_t& out,
                std::string& error) {
  auto it = call.query.find(name);
  if (it == call.query.end() || it->second.empty()) {
    out = fallback;
    return true;
  }
  size_t v = 0;
  for (char c : it->second) {
    if (!base::is_digit(c) || v > (std::numeric_limits<size_t>::max() - 9) / 10) {
      error = std::string("invalid ") + name + ": " + it->second;
      return false;
    }
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  out = v;
  return true;
}

std::string query_param(const Call& call, const char* name) {
  auto it = call.query.find(name);
  return it == call.query.end() ? std::string() : it->second;
}

// "latest" is the newest message, as in Mailpit.
SummaryPtr resolve(const CaptureStore& store, const std::string& id) {
  if (id == "latest") {
    size_t total = 0;
    std::vector<SummaryPtr> first = store.list(0, 1, total);
    return first.empty() ? nullptr : first.front();
  }
  return store.find(id);
}

// Unread messages among a search's matches.
size_t unread_count(const CaptureStore& store, capture::Query q) {
  q.terms.push_back({"is", "unread", false});
  size_t total = 0;
  store.search(q, 0, 0, total);
  return total;
}

// The message's body parsed by the MIME reader; 404/500 as a response when it cannot be read.
struct Loaded {
  SummaryPtr summary;
  std::optional<mime::Message> message;
  std::optional<Response> error;
};
Loaded load(const Call& call, CaptureStore* store, bool parse) {
  Loaded out;
  if (store == nullptr) {
    out.error = error_response(call, http::status::not_found, kNoCapture);
    return out;
  }
  auto id = call.params.find("ID");
  out.summary = id == call.params.end() ? nullptr : resolve(*store, id->second);
  if (!out.summary) {
    out.error = error_response(call, http::status::not_found, "message not found");
    return out;
  }
  if (parse) {
    std::string raw;
    if (std::error_code ec = store->raw(out.summary->id, raw)) {
      base::log_warn() << "console api=message id=" << out.summary->id
                       << " error=" << base::log_quote(ec.message());
      out.error = error_response(call, http::status::internal_server_error,
                                 "cannot read the message: " + ec.message());
      return out;
    }
    out.message = mime::parse(raw);
  }
  return out;
}

// A JSON request body; an empty body (or only whitespace) is an empty object.
std::optional<json_in::Value> body_json(const Call& call, std::string& error) {
  if (base::trim(call.req.body(), " \t\r\n").empty()) {
    json_in::Value v;
    v.kind = json_in::Value::Kind::Object;
    return v;
  }
  auto v = json_in::parse(call.req.body(), error);
  if (v && v->kind != json_in::Value::Kind::Object) {
    error = "the body must be a JSON object";
    return std::nullopt;
  }
  if (!v) {
    error = "invalid JSON body: " + error;
  }
  return v;
}

// An optional member that must be a list of strings.
bool ids_member(const json_in::Value& body, const char* name, std::vector<std::string>& out,
                std::string& error) {
  const json_in::Value* v = body.get(name);
  if (v == nullptr || v->kind == json_in::Value::Kind::Null) {
    return true;
  }
  auto list = json_in::string_list(*v);
  if (!list) {
    error = std::string(name) + " must be an array of strings";
    return false;
  }
  out = std::move(*list);
  return true;
}

// ---- /api/v1/messages, /api/v1/search ----

awaitable<Response> list_messages(CaptureStore* store, Call& call, bool search) {
  std::string error;
  ListPage page;
  size_t limit = 0;
  if (!size_param(call, "start", 0, page.start, error) ||
      !size_param(call, "limit", kDefaultLimit, limit, error)) {
    co_return error_response(call, http::status::bad_request, error);
  }
  capture::Query q;
  if (search) {
    auto parsed = capture::parse_query(query_param(call, "query"), error);
    if (!parsed) {
      co_return error_response(call, http::status::bad_request, error);
    }
    q = std::move(*parsed);
  }
  if (store == nullptr) {
    co_return json_response(call, list_json(page));
  }
  page.total = store->size();
  page.unread = store->unread();
  if (search) {
    page.messages = store->search(q, page.start, limit, page.messages_count);
    page.messages_unread = unread_count(*store, q);
  } else {
    page.messages = store->list(page.start, limit, page.messages_count);
    page.messages_unread = page.unread;
  }
  co_return json_response(call, list_json(page));
}

awaitable<Response> delete_messages(CaptureStore* store, Call& call) {
  std::string error;
  auto body = body_json(call, error);
  std::vector<std::string> ids;
  if (!body || !ids_member(*body, "IDs", ids, error)) {
    co_return error_response(call, http::status::bad_request, error);
  }
  if (store == nullptr) {
    co_return text_response(call, http::status::ok, "ok");
  }
  // Mailpit: no IDs (no body, or an empty list) deletes every message.
  size_t n = ids.empty() ? store->remove_all() : store->remove(ids);
  base::log_info() << "console api=delete messages=" << n << " client=" << call.client_ip;
  co_return text_response(call, http::status::ok, "ok");
}

awaitable<Response> delete_search(CaptureStore* store, Call& call) {
  std::string error;
  std::string text = query_param(call, "query");
  if (base::trim(text).empty()) {
    co_return error_response(call, http::status::bad_request, "query is required");
  }
  auto q = capture::parse_query(text, error);
  if (!q) {
    co_return error_response(call, http::status::bad_request, error);
  }
  if (store == nullptr) {
    co_return text_response(call, http::status::ok, "ok");
  }
  size_t total = 0;
  std::vector<std::string> ids;
  for (const SummaryPtr& s : store->search(*q, 0, std::numeric_limits<size_t>::max(), total)) {
    ids.push_back(s->id);
  }
  size_t n = store->remove(ids);
  base::log_info() << "console api=delete query=" << base::log_quote(text) << " messages=" << n
                   << " client=" << call.client_ip;
  co_return text_response(call, http::status::ok, "ok");
}

// PUT /api/v1/messages {"IDs": [...], "Read": true, "Search": "..."}: the IDs, else the
// search's matches, else every message.
awaitable<Response> set_read(CaptureStore* store, Call& call) {
  std::string error;
  auto body = body_json(call, error);
  std::vector<std::string> ids;
  if (!body || !ids_member(*body, "IDs", ids, error)) {
    co_return error_response(call, http::status::bad_request, error);
  }
  bool read = false;
  if (const json_in::Value* r = body->get("Read")) {
    if (r->kind != json_in::Value::Kind::Bool) {
      co_return error_response(call, http::status::bad_request, "Read must be true or false");
    }
    read = r->boolean;
  }
  capture::Query q;
  if (const json_in::Value* s = body->get("Search")) {
    if (s->kind != json_in::Value::Kind::String) {
      co_return error_response(call, http::status::bad_request, "Search must be a string");
    }
    auto parsed = capture::parse_query(s->string, error);
    if (!parsed) {
      co_return error_response(call, http::status::bad_request, error);
    }
    q = std::move(*parsed);
  }
  if (store == nullptr) {
    co_return text_response(call, http::status::ok, "ok");
  }
  if (ids.empty()) {
    size_t total = 0;
    for (const SummaryPtr& s : store->search(q, 0, std::numeric_limits<size_t>::max(), total)) {
      ids.push_back(s->id);
    }
  }
  for (const std::string& id : ids) {
    SummaryPtr s = store->find(id);
    if (s && s->read != read) {
      store->mark_read(id, read);
    }
  }
  co_return text_response(call, http::status::ok, "ok");
}

// ---- /api/v1/message/{ID}... ----

awaitable<Response> get_message(CaptureStore* store, Call& call) {
  Loaded l = load(call, store, true);
  if (l.error) {
    co_return std::move(*l.error);
  }
  // Mailpit: fetching the message marks it read.
  if (!l.summary->read) {
    store->mark_read(l.summary->id, true);
    if (SummaryPtr fresh = store->find(l.summary->id)) {
      l.summary = fresh;
    }
  }
  co_return json_response(call, message_json(*l.summary, *l.message, our_auth_badges(*l.message)));
}

awaitable<Response> get_headers(CaptureStore* store, Call& call) {
  Loaded l = load(call, store, false);
  if (l.error) {
    co_return std::move(*l.error);
  }
  std::string raw;
  if (std::error_code ec = store->raw(l.summary->id, raw)) {
    co_return error_response(call, http::status::internal_server_error,
                             "cannot read the message: " + ec.message());
  }
  mime::Message m;
  m.headers = mime::parse_headers(raw);
  co_return json_response(call, headers_json(m));
}

awaitable<Response> get_raw(CaptureStore* store, Call& call) {
  Loaded l = load(call, store, false);
  if (l.error) {
    co_return std::move(*l.error);
  }
  std::string raw;
  if (std::error_code ec = store->raw(l.summary->id, raw)) {
    co_return error_response(call, http::status::internal_server_error,
                             "cannot read the message: " + ec.message());
  }
  // The stored bytes exactly; a browser shows them as text and never as HTML.
  co_return text_response(call, http::status::ok, std::move(raw));
}

awaitable<Response> get_part(CaptureStore* store, Call& call) {
  Loaded l = load(call, store, true);
  if (l.error) {
    co_return std::move(*l.error);
  }
  const std::string& part_id = call.params["PartID"];
  const mime::Part* part = nullptr;
  for (const auto* list : {&l.message->attachments, &l.message->inlines}) {
    for (const mime::Part& p : *list) {
      if (p.part_id == part_id) {
        part = &p;
      }
    }
  }
  if (part == nullptr) {
    co_return error_response(call, http::status::not_found, "part not found");
  }
  Response res =
      make_response(call, http::status::ok, safe_content_type(part->content_type), part->data);
  res.set(http::field::content_disposition, content_disposition(part->filename));
  res.set("X-Content-Type-Options", "nosniff");
  // Opened directly, an HTML or SVG attachment must not run as a page of the console's origin.
  res.set("Content-Security-Policy", "sandbox; default-src 'none'");
  co_return res;
}

awaitable<Response> release(CaptureStore* store, Call& call) {
  std::string error;
  auto body = body_json(call, error);
  std::vector<std::string> to;
  if (!body || !ids_member(*body, "To", to, error)) {
    co_return error_response(call, http::status::bad_request, error);
  }
  Loaded l = load(call, store, false);
  if (l.error) {
    co_return std::move(*l.error);
  }
  std::string id = l.summary->id;
  CaptureStore::Released r = co_await store->release(id, to);
  if (r.ec) {
    std::string what = r.ec.message() + (r.detail.empty() ? "" : ": " + r.detail);
    base::log_warn() << "console api=release id=" << id << " error=" << base::log_quote(what);
    http::status status = http::status::internal_server_error;
    if (r.ec == capture::Error::UnknownId) {
      status = http::status::not_found;
    } else if (r.ec == capture::Error::BadAddress || r.ec == capture::Error::RecipientRefused ||
               r.ec == capture::Error::NoRecipients) {
      status = http::status::bad_request;
    } else if (r.ec == capture::Error::Busy) {
      status = http::status::conflict;
    }
    co_return error_response(call, status, "release failed: " + what);
  }
  base::log_info() << "console api=release id=" << id << " queue_id=" << r.queue_id << " rcpts="
                   << (to.empty() ? std::string("original") : std::to_string(to.size()))
                   << " client=" << call.client_ip;
  // Mailpit answers "ok"; the new queue message's ID is in a header of our own.
  Response res = text_response(call, http::status::ok, "ok");
  res.set("X-Hikyaku-Queue-Id", r.queue_id);
  co_return res;
}

// ---- /view/{ID}.html, /view/{ID}.txt ----

awaitable<Response> view(CaptureStore* store, Call& call) {
  std::string file = call.params["FILE"];
  bool html = file.size() > 5 && file.ends_with(".html");
  bool txt = file.size() > 4 && file.ends_with(".txt");
  if (!html && !txt) {
    co_return error_response(call, http::status::not_found, "not found");
  }
  call.params["ID"] = file.substr(0, file.size() - (html ? 5 : 4));
  Loaded l = load(call, store, true);
  if (l.error) {
    co_return std::move(*l.error);
  }
  if (txt) {
    co_return text_response(call, http::status::ok, l.message->text);
  }
  if (l.message->html.empty()) {
    co_return error_response(call, http::status::not_found, "the message has no HTML body");
  }
  std::vector<const mime::Part*> parts;
  for (const mime::Part& p : l.message->inlines) {
    parts.push_back(&p);
  }
  for (const mime::Part& p : l.message->attachments) {
    parts.push_back(&p);
  }
  std::string body =
      rewrite_cid(l.message->html, parts, "/api/v1/message/" + l.summary->id + "/part/");
  Response res = make_response(call, http::status::ok, "text/html; charset=utf-8", std::move(body));
  res.set("Content-Security-Policy", view_csp(query_param(call, "images") == "1"));
  res.set("X-Frame-Options", "SAMEORIGIN");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  co_return res;
}

// ---- /api/hikyaku/wait, /api/hikyaku/events, /api/v1/info ----

// Seconds, "30" or "2.5"; milliseconds at most.
bool parse_seconds(std::string_view s, std::chrono::milliseconds& out) {
  if (s.empty() || s.size() > 12) {
    return false;
  }
  int64_t ms = 0;
  size_t i = 0;
  for (; i < s.size() && base::is_digit(s[i]); ++i) {
    ms = ms * 10 + (s[i] - '0');
  }
  if (i == 0) {
    return false;
  }
  ms *= 1000;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100;
    size_t start = ++i;
    for (; i < s.size() && base::is_digit(s[i]); ++i) {
      ms += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (i == start) {
      return false;
    }
  }
  if (i != s.size()) {
    return false;
  }
  out = std::chrono::milliseconds(ms);
  return true;
}

awaitable<Response> wait_message(CaptureStore* store, Call& call) {
  std::string error;
  auto q = capture::parse_query(query_param(call, "query"), error);
  if (!q) {
    co_return error_response(call, http::status::bad_request, error);
  }
  std::chrono::milliseconds timeout = kDefaultWait;
  std::string t = query_param(call, "timeout");
  if (!t.empty() && (!parse_seconds(t, timeout) || timeout > kMaxWait)) {
    co_return error_response(call, http::status::bad_request,
                             "timeout must be a number of seconds from 0 to 300");
  }
  queue::TimePoint since{};
  std::string since_text = query_param(call, "since");
  if (since_text == "now") {
    since = std::chrono::system_clock::now();
  } else if (!since_text.empty()) {
    auto parsed = parse_rfc3339(since_text);
    if (!parsed) {
      co_return error_response(call, http::status::bad_request,
                               "since must be an RFC 3339 date-time (2026-01-02T15:04:05Z) or now");
    }
    since = *parsed;
  }
  if (store == nullptr) {
    co_return error_response(call, http::status::not_found, kNoCapture);
  }
  SummaryPtr s = co_await store->wait(std::move(*q), since, timeout);
  if (!s) {
    co_return error_response(
        call, http::status::request_timeout,
        "no matching message within " + (t.empty() ? std::string("30") : t) + " s");
  }
  co_return json_response(call, summary_json(*s));
}

// The events the store reports, turned into SSE text at once and queued for the stream.
struct EventQueue {
  explicit EventQueue(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::deque<std::pair<const char*, std::string>> pending;
  bool overflow = false;

  void push(const capture::Event& e) {
    if (overflow || !e.message) {
      return;
    }
    if (pending.size() >= kMaxPendingEvents) {
      overflow = true;
    } else {
      const char* name = e.kind == capture::Event::Kind::Added     ? "new"
                         : e.kind == capture::Event::Kind::Removed ? "delete"
                                                                   : "read";
      pending.emplace_back(name, summary_json(*e.message));
    }
    timer.cancel();
  }
};

awaitable<void> events(CaptureStore* store, Call& call, EventStream& stream) {
  auto q = std::make_shared<EventQueue>(co_await asio::this_coro::executor);
  std::unique_ptr<CaptureStore::Subscription> sub;
  if (store != nullptr) {
    sub = store->subscribe([q](const capture::Event& e) { q->push(e); });
  }
  base::log_debug() << "console api=events client=" << call.client_ip << " open";
  for (;;) {
    while (!q->pending.empty()) {
      auto [name, data] = std::move(q->pending.front());
      q->pending.pop_front();
      if (!co_await stream.send(name, data)) {
        co_return;
      }
    }
    if (q->overflow) {
      base::log_info() << "console api=events client=" << call.client_ip
                       << " result=closed reason=slow-client";
      co_return;
    }
    q->timer.expires_after(kEventsPing);
    auto [ec] = co_await q->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec && !co_await stream.ping()) {
      co_return;
    }
  }
}

awaitable<Response> info(CaptureStore* store, Call& call) {
  size_t messages = store == nullptr ? 0 : store->size();
  size_t unread = store == nullptr ? 0 : store->unread();
  co_return json_response(call, info_json(HK_VERSION, messages, unread));
}

}  // namespace

void add_mailpit_api(Router& router, capture::CaptureStore* store) {
  using V = http::verb;
  auto route = [&](V verb, const char* pattern, awaitable<Response> (*fn)(CaptureStore*, Call&)) {
    router.add(verb, pattern, [store, fn](Call& call) { return fn(store, call); });
  };
  router.add(V::get, "/api/v1/messages",
             [store](Call& call) { return list_messages(store, call, false); });
  route(V::delete_, "/api/v1/messages", delete_messages);
  route(V::put, "/api/v1/messages", set_read);
  router.add(V::get, "/api/v1/search",
             [store](Call& call) { return list_messages(store, call, true); });
  route(V::delete_, "/api/v1/search", delete_search);
  route(V::get, "/api/v1/message/{ID}", get_message);
  route(V::get, "/api/v1/message/{ID}/headers", get_headers);
  route(V::get, "/api/v1/message/{ID}/raw", get_raw);
  route(V::get, "/api/v1/message/{ID}/part/{PartID}", get_part);
  route(V::post, "/api/v1/message/{ID}/release", release);
  route(V::get, "/api/v1/info", info);
  route(V::get, "/view/{FILE}", view);
  route(V::get, "/api/hikyaku/wait", wait_message);
  router.add_events("/api/hikyaku/events", [store](Call& call, EventStream& stream) {
    return events(store, call, stream);
  });
}

}  // namespace hk::console
