// Queue file format: the envelope header block and the state sidecar, as text.
#include "lib/queue/queue_file.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "lib/base/ascii.hpp"
#include "lib/queue/delivery_result.hpp"

namespace hk::queue {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

std::error_code bad() { return std::make_error_code(std::errc::bad_message); }

int64_t to_unix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint from_unix(int64_t secs) { return TimePoint(std::chrono::seconds(secs)); }

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Splits on single spaces; escaped values never contain one, so empty fields survive.
std::vector<std::string_view> split_fields(std::string_view v) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t sp = v.find(' ');
    out.push_back(v.substr(0, sp));
    if (sp == std::string_view::npos) {
      return out;
    }
    v.remove_prefix(sp + 1);
  }
}

// Calls fn(key, value) for each `key: value` line after the magic line, up to the empty line or
// the end. Returns false when the magic is wrong or a line has no colon.
template <class Fn>
bool for_each_line(std::string_view text, std::string_view magic, Fn fn) {
  size_t nl = text.find('\n');
  if (text.substr(0, nl) != magic) {
    return false;
  }
  text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  while (!text.empty()) {
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) {
      break;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return false;
    }
    std::string_view value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (!fn(line.substr(0, colon), value)) {
      return false;
    }
  }
  return true;
}

void add_line(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  out += ':';
  if (!value.empty()) {
    out += ' ';
    out += value;
  }
  out += '\n';
}

bool parse_state_name(std::string_view s, RcptState& out) {
  if (s == "pending") {
    out = RcptState::Pending;
  } else if (s == "delivered") {
    out = RcptState::Delivered;
  } else if (s == "failed") {
    out = RcptState::Failed;
  } else {
    return false;
  }
  return true;
}

bool parse_flag(std::string_view s, bool& out) {
  if (s == "yes") {
    out = true;
  } else if (s == "no") {
    out = false;
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(RcptState s) {
  switch (s) {
    case RcptState::Pending:
      return "pending";
    case RcptState::Delivered:
      return "delivered";
    case RcptState::Failed:
      return "failed";
  }
  return "pending";
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string escape_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '%' || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool unescape_value(std::string_view v, std::string& out) {
  out.clear();
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) {
      return false;
    }
    int hi = base::hex_value(v[i + 1]);
    int lo = base::hex_value(v[i + 2]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string encode_header(const Envelope& env) {
  std::string out;
  out.reserve(256 + env.rcpts.size() * 80);
  out += kMessageMagic;
  out += '\n';
  add_line(out, "id", env.id);
  add_line(out, "created", std::to_string(to_unix(env.created)));
  add_line(out, "from", escape_value(env.from));
  for (const Recipient& r : env.rcpts) {
    std::string v = r.local ? "local " : "remote ";
    v += escape_value(r.address);
    v += ' ';
    v += escape_value(r.original);
    add_line(out, "rcpt", v);
    // Its own line, after the recipient it belongs to and written only when set: a queue file
    // without SRS reads as before, and an older reader skips the key (the mail then leaves with
    // Envelope::from, the sender as it came).
    if (!r.sender.empty()) {
      add_line(out, "rcpt-sender", escape_value(r.sender));
    }
  }
  add_line(out, "client-ip", escape_value(env.client_ip));
  add_line(out, "helo", escape_value(env.helo));
  add_line(out, "auth-user", escape_value(env.auth_user));
  add_line(out, "smtputf8", env.smtputf8 ? "yes" : "no");
  add_line(out, "body", env.eightbit ? "8bitmime" : "7bit");
  // Written only when set: files of other messages stay byte for byte as before, and an older
  // reader skips the unknown key.
  if (env.requiretls) {
    add_line(out, "requiretls", "yes");
  }
  out += '\n';
  return out;
}

size_t header_end(std::string_view file) {
  size_t pos = file.find("\n\n");
  return pos == std::string_view::npos ? pos : pos + 2;
}

std::error_code parse_header(std::string_view header, Envelope& env) {
  env = Envelope{};
  bool have_id = false;
  bool have_created = false;
  bool ok = for_each_line(header, kMessageMagic, [&](std::string_view key, std::string_view v) {
    if (key == "id") {
      have_id = valid_id(v);
      env.id = std::string(v);
      return have_id;
    }
    if (key == "created") {
      int64_t secs = 0;
      have_created = parse_int(v, secs) && secs >= 0;
      env.created = from_unix(secs);
      return have_created;
    }
    if (key == "from") {
      return unescape_value(v, env.from);
    }
    if (key == "rcpt") {
      std::vector<std::string_view> f = split_fields(v);
      if (f.size() != 3 || (f[0] != "local" && f[0] != "remote")) {
        return false;
      }
      Recipient r;
      r.local = f[0] == "local";
      if (!unescape_value(f[1], r.address) || !unescape_value(f[2], r.original)) {
        return false;
      }
      env.rcpts.push_back(std::move(r));
      return true;
    }
    if (key == "rcpt-sender") {
      // Belongs to the rcpt line just before it.
      return !env.rcpts.empty() && env.rcpts.back().sender.empty() &&
             unescape_value(v, env.rcpts.back().sender) && !env.rcpts.back().sender.empty();
    }
    if (key == "client-ip") {
      return unescape_value(v, env.client_ip);
    }
    if (key == "helo") {
      return unescape_value(v, env.helo);
    }
    if (key == "auth-user") {
      return unescape_value(v, env.auth_user);
    }
    if (key == "smtputf8") {
      return parse_flag(v, env.smtputf8);
    }
    if (key == "requiretls") {
      return parse_flag(v, env.requiretls);
    }
    if (key == "body") {
      if (v != "8bitmime" && v != "7bit") {
        return false;
      }
      env.eightbit = v == "8bitmime";
      return true;
    }
    // Unknown keys are skipped so that a later minor addition does not strand old queues;
    // incompatible changes bump the version on the magic line instead.
    return true;
  });
  if (!ok || !have_id || !have_created) {
    return bad();
  }
  return {};
}

std::string encode_state(const Envelope& env) {
  std::string out;
  out.reserve(32 + env.rcpts.size() * 96);
  out += kStateMagic;
  out += '\n';
  // Written only once set, so that the sidecar of a message never warned about stays as it was
  // before this key existed; readers without it skip the unknown key.
  if (env.delay_warned != TimePoint{}) {
    add_line(out, "delay-warned", std::to_string(to_unix(env.delay_warned)));
  }
  for (size_t i = 0; i < env.rcpts.size(); ++i) {
    const Recipient& r = env.rcpts[i];
    std::string v = std::to_string(i);
    v += ' ';
    v += to_string(r.state);
    v += ' ';
    v += std::to_string(r.attempts);
    v += ' ';
    v += std::to_string(to_unix(r.next_attempt));
    v += ' ';
    v += escape_value(r.address);
    v += ' ';
    // The reply keeps the one-line form that every version reads; apply_state() splits it.
    v += escape_value(reply_line(r.last_code, r.last_enhanced, r.last_text));
    add_line(out, "rcpt", v);
  }
  return out;
}

std::error_code apply_state(std::string_view state, Envelope& env) {
  // Parse into a copy first so that a malformed sidecar leaves `env` as loaded.
  std::vector<Recipient> rcpts = env.rcpts;
  TimePoint delay_warned = env.delay_warned;
  bool ok = for_each_line(state, kStateMagic, [&](std::string_view key, std::string_view v) {
    if (key == "delay-warned") {
      int64_t secs = 0;
      if (!parse_int(v, secs) || secs <= 0) {
        return false;
      }
      delay_warned = from_unix(secs);
      return true;
    }
    if (key != "rcpt") {
      return true;  // unknown keys: a later minor addition, skipped like in the header
    }
    std::vector<std::string_view> f = split_fields(v);
    int64_t index = 0;
    int64_t attempts = 0;
    int64_t next = 0;
    if (f.size() != 6 || !parse_int(f[0], index) || index < 0 ||
        static_cast<uint64_t>(index) >= rcpts.size() || !parse_int(f[2], attempts) ||
        attempts < 0 || attempts > 1000000 || !parse_int(f[3], next) || next < 0) {
      return false;
    }
    Recipient& r = rcpts[static_cast<size_t>(index)];
    std::string address;
    std::string reply;
    if (!parse_state_name(f[1], r.state) || !unescape_value(f[4], address) ||
        address != r.address || !unescape_value(f[5], reply)) {
      return false;
    }
    ReplyParts parts = split_reply_line(reply);
    r.last_code = parts.code;
    r.last_enhanced = std::move(parts.enhanced);
    r.last_text = std::move(parts.text);
    r.attempts = static_cast<int>(attempts);
    r.next_attempt = from_unix(next);
    return true;
  });
  if (!ok) {
    return bad();
  }
  env.rcpts = std::move(rcpts);
  env.delay_warned = delay_warned;
  return {};
}

}  // namespace hk::queue
