// hikyaku's own endpoints for the operator: the queue (list, retry, remove), the delivery log,
// health, the relay test and check-dns (docs/api.md, "hikyaku's own endpoints"). JSON in and
// out; every error is {"Error": "..."} with a fitting status. The Backend does the work; this
// file checks the input and picks the status.
#include <boost/asio/awaitable.hpp>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>

#include "daemon/console/backend.hpp"
#include "daemon/console/json_in.hpp"
#include "daemon/console/routes.hpp"
#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"
#include "lib/base/json.hpp"
#include "lib/smtp/address.hpp"

namespace hk::console {

namespace asio = boost::asio;

namespace {

constexpr size_t kDefaultQueuePage = 50;
constexpr size_t kMaxQueuePage = 1000;
constexpr size_t kDefaultLogEvents = 100;
constexpr size_t kMaxLogEvents = 1'000'000;  // the ring's largest size ([console] log_events)

// A query parameter that must be a whole number when present; nullopt when it is not one.
std::optional<size_t> number(const Call& call, const std::string& name, size_t fallback) {
  auto it = call.query.find(name);
  if (it == call.query.end() || it->second.empty()) {
    return fallback;
  }
  size_t value = 0;
  const char* end = it->second.data() + it->second.size();
  auto [ptr, ec] = std::from_chars(it->second.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

Response ok_response(const Call& call, std::string_view id) {
  std::string out = "{\"ID\":";
  base::append_json_string(out, id);
  out += ",\"Ok\":true}";
  return json_response(call, std::move(out));
}

asio::awaitable<Response> queue_list(Backend& backend, Call& call) {
  std::optional<size_t> start = number(call, "start", 0);
  std::optional<size_t> limit = number(call, "limit", kDefaultQueuePage);
  if (!start || !limit) {
    co_return error_response(call, http::status::bad_request,
                             "start and limit must be whole numbers");
  }
  std::string json = co_await backend.queue_json(*start, std::min(*limit, kMaxQueuePage));
  co_return json_response(call, std::move(json));
}

asio::awaitable<Response> queue_retry(Backend& backend, Call& call) {
  const std::string& id = call.params["ID"];
  if (!backend.retry(id == "all" ? std::string() : id)) {
    co_return error_response(call, http::status::not_found, "no queued message " + id);
  }
  co_return ok_response(call, id);
}

asio::awaitable<Response> queue_remove(Backend& backend, Call& call) {
  const std::string id = call.params["ID"];
  std::error_code ec = co_await backend.remove(id);
  if (!ec) {
    co_return ok_response(call, id);
  }
  if (ec == std::errc::device_or_resource_busy) {
    // RFC 9110 §15.5.10: the target's current state conflicts with the request.
    co_return error_response(call, http::status::conflict,
                             "message " + id + " is being delivered now; try again in a moment");
  }
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::invalid_argument) {
    co_return error_response(call, http::status::not_found, "no queued message " + id);
  }
  co_return error_response(call, http::status::internal_server_error,
                           "cannot remove message " + id + ": " + ec.message());
}

asio::awaitable<Response> delivery_log(Backend& backend, Call& call) {
  std::optional<size_t> limit = number(call, "limit", kDefaultLogEvents);
  if (!limit) {
    co_return error_response(call, http::status::bad_request, "limit must be a whole number");
  }
  auto id = call.query.find("id");
  std::string json = backend.delivery_log_json(id == call.query.end() ? "" : id->second,
                                               std::min(*limit, kMaxLogEvents));
  co_return json_response(call, std::move(json));
}

asio::awaitable<Response> health(Backend& backend, Call& call) {
  co_return json_response(call, backend.health_json());
}

asio::awaitable<Response> relay_test(Backend& backend, Call& call) {
  const std::string& text = call.params["N"];
  size_t relay = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), relay);
  if (ec != std::errc() || ptr != text.data() + text.size() || relay >= backend.relay_count()) {
    co_return error_response(call, http::status::not_found,
                             "no [[relay]] number " + text + " (they count from 0)");
  }
  std::string send_to;
  if (!call.req.body().empty()) {
    std::string error;
    std::optional<json_in::Value> body = json_in::parse(call.req.body(), error);
    if (!body || body->kind != json_in::Value::Kind::Object) {
      co_return error_response(call, http::status::bad_request,
                               "the body must be a JSON object: " +
                                   (error.empty() ? std::string("not an object") : error));
    }
    if (const json_in::Value* v = body->get("SendTo"); v != nullptr) {
      if (v->kind != json_in::Value::Kind::String) {
        co_return error_response(call, http::status::bad_request, "SendTo must be a string");
      }
      send_to = v->string;
    }
  }
  if (!send_to.empty()) {
    // An envelope address as RFC 5321 §4.1.2 has it, with a domain (no IP literal).
    smtp::PathResult p = smtp::parse_path("<" + send_to + ">", smtp::PathKind::Forward);
    if (!p || p.value.is_null() || p.value.literal || p.value.domain.empty()) {
      co_return error_response(call, http::status::bad_request,
                               "SendTo is not an address: " + send_to);
    }
    send_to = p.value.str();
  }
  std::string json = co_await backend.relay_test_json(relay, std::move(send_to));
  co_return json_response(call, std::move(json));
}

asio::awaitable<Response> check_dns(Backend& backend, Call& call) {
  std::string domain = base::to_lower(call.params["DOMAIN"]);
  while (domain.ends_with('.')) {
    domain.pop_back();
  }
  base::DomainSyntax syntax;
  syntax.numeric_top_label = false;
  syntax.min_labels = 2;
  if (!base::is_domain_name(domain, syntax)) {
    co_return error_response(call, http::status::bad_request,
                             "not a domain name: " + call.params["DOMAIN"]);
  }
  std::string json = co_await backend.check_dns_json(std::move(domain));
  co_return json_response(call, std::move(json));
}

}  // namespace

void add_ops_api(Router& router, Backend& backend) {
  Backend* b = &backend;
  router.add(http::verb::get, "/api/hikyaku/queue", [b](Call& c) { return queue_list(*b, c); });
  router.add(http::verb::post, "/api/hikyaku/queue/{ID}/retry",
             [b](Call& c) { return queue_retry(*b, c); });
  router.add(http::verb::delete_, "/api/hikyaku/queue/{ID}",
             [b](Call& c) { return queue_remove(*b, c); });
  router.add(http::verb::get, "/api/hikyaku/log", [b](Call& c) { return delivery_log(*b, c); });
  router.add(http::verb::get, "/api/hikyaku/health", [b](Call& c) { return health(*b, c); });
  router.add(http::verb::post, "/api/hikyaku/relay/{N}/test",
             [b](Call& c) { return relay_test(*b, c); });
  router.add(http::verb::get, "/api/hikyaku/dns/{DOMAIN}",
             [b](Call& c) { return check_dns(*b, c); });
}

}  // namespace hk::console
