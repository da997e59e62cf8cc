// The Router, the response helpers, server-sent event framing and the decoding of request
// targets: the pure part of the console's HTTP (no sockets; console_server.cpp does the I/O).
#include "daemon/console/http.hpp"

#include "lib/base/ascii.hpp"
#include "lib/base/json.hpp"

namespace hk::console {

namespace {

// "/a/b" → {"a", "b"}; "/" → {}; "/a/" → {"a", ""} (a trailing slash is its own, empty, segment).
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  if (path.empty()) {
    return out;
  }
  for (;;) {
    size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::add(http::verb method, std::string pattern, Handler handler) {
  Route r{method, split_path(pattern), false, std::move(handler), nullptr};
  if (!r.segments.empty()) {
    std::string& last = r.segments.back();
    if (is_param(last) && last[last.size() - 2] == '*') {
      r.rest = true;
      last.erase(last.size() - 2, 1);  // "{NAME*}" → "{NAME}"
    }
  }
  routes_.push_back(std::move(r));
}

void Router::add_events(std::string pattern, EventsHandler handler) {
  add(http::verb::get, std::move(pattern), nullptr);
  routes_.back().events = std::move(handler);
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  // RFC 9110 §9.3.2: HEAD is GET without the content.
  const http::verb wanted = method == http::verb::head ? http::verb::get : method;
  const std::vector<std::string> segs = split_path(path);
  Match out;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    bool ok = r.rest ? segs.size() >= r.segments.size() : segs.size() == r.segments.size();
    for (size_t i = 0; ok && i < r.segments.size(); ++i) {
      const std::string& p = r.segments[i];
      if (!is_param(p)) {
        ok = p == segs[i];
        continue;
      }
      std::string value = segs[i];
      if (r.rest && i + 1 == r.segments.size()) {
        for (size_t j = i + 1; j < segs.size(); ++j) {
          value += "/" + segs[j];
        }
      }
      ok = !value.empty();
      params[p.substr(1, p.size() - 2)] = std::move(value);
    }
    if (!ok) {
      continue;
    }
    if (r.method != wanted) {
      // RFC 9110 §15.5.6: a 405 lists the methods the resource has.
      std::string name(http::to_string(r.method));
      if (out.allow.find(name) == std::string::npos) {
        out.allow += out.allow.empty() ? name : ", " + name;
        if (r.method == http::verb::get) {
          out.allow += ", HEAD";
        }
      }
      out.wrong_method = true;
      continue;
    }
    out.handler = r.handler ? &r.handler : nullptr;
    out.events = r.events ? &r.events : nullptr;
    out.wrong_method = false;
    out.params = std::move(params);
    out.allow.clear();
    return out;
  }
  return out;
}

Response make_response(const Call& call, http::status status, std::string content_type,
                       std::string body) {
  Response res(status, call.req.version());
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.keep_alive(call.req.keep_alive());
  res.prepare_payload();
  return res;
}

Response json_response(const Call& call, std::string json, http::status status) {
  return make_response(call, status, "application/json; charset=utf-8", std::move(json));
}

Response error_response(const Call& call, http::status status, std::string_view message) {
  std::string body = "{\"Error\":";
  base::append_json_string(body, message);
  body += "}";
  return json_response(call, std::move(body), status);
}

std::string sse_event(std::string_view event, std::string_view data) {
  std::string out;
  if (!event.empty()) {
    // A line break in the name would start a field of the client's choosing: cut it there.
    out += "event: ";
    out += event.substr(0, event.find_first_of("\r\n"));
    out += "\n";
  }
  for (;;) {
    size_t end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += "\n";
    if (end == std::string_view::npos) {
      break;
    }
    size_t next = end + 1;
    if (data[end] == '\r' && next < data.size() && data[next] == '\n') {
      ++next;
    }
    data.remove_prefix(next);
  }
  out += "\n";
  return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      int hi = base::hex_value(text[i + 1]);
      int lo = base::hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<Target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return std::nullopt;  // absolute-form, authority-form and "*" are for proxies
  }
  Target out;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  // A fragment never reaches a server (RFC 9110 §4.2.5); if one does, it is not ours to read.
  auto path = percent_decode(raw_path.substr(0, raw_path.find('#')), false);
  if (!path) {
    return std::nullopt;
  }
  out.path = std::move(*path);
  if (q == std::string_view::npos) {
    return out;
  }
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) {
      return std::nullopt;
    }
    out.query.emplace(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace hk::console
