// hikyaku-util commands for the queue: queue list / show / delete read and change the queue folder
// directly (format: docs/queue-format.md); queue flush asks the running daemon through its control
// socket (daemon/server/control.hpp).
//
// The folder is read through QueueView, the same passive reader the daemon's QueueStore uses, and
// never through a QueueStore: constructing one cleans tmp/ and leftover state files, which would
// pull files from under a running daemon's writes. Everything here only reads, except
// `queue delete`, which unlinks in the store's order (.msg first, then .state).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "lib/base/errno.hpp"
#include "lib/base/files.hpp"
#include "lib/base/json.hpp"
#include "lib/config/config.hpp"
#include "lib/control/client.hpp"
#include "lib/queue/backoff_file.hpp"
#include "lib/queue/delivery_result.hpp"
#include "lib/queue/envelope.hpp"
#include "lib/queue/queue_file.hpp"
#include "lib/queue/queue_view.hpp"
#include "util/args.hpp"
#include "util/command.hpp"

namespace hk::util {
namespace {

using base::errno_code;

namespace fs = std::filesystem;
using queue::Envelope;
using queue::QueueView;
using queue::RcptState;
using queue::Recipient;
using std::chrono::system_clock;

constexpr std::chrono::seconds kFlushTimeout{10};

// DATA_DIR from --data-dir, else from hikyaku.toml. Prints the config error and returns nullopt.
std::optional<fs::path> data_dir(const Context& ctx, const Args& args) {
  if (auto dir = args.value("data-dir")) {
    return fs::path(*dir);
  }
  try {
    return config::load_config(ctx.config_dir).data_dir;
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return std::nullopt;
  }
}

// An ID argument: a malformed one is bad usage, so it never reaches a path.
std::string parse_id(const std::string& text) {
  if (!queue::valid_id(text)) {
    throw UsageError("\"" + text + "\" is not a queue ID");
  }
  return text;
}

// What a remote server or client wrote (a reply, a HELO name, a header) may hold terminal escape
// sequences: controls other than tab are shown as \xNN.
std::string printable(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

// The last reply in its one-line form, as the state sidecar keeps it: "451 4.7.1 try later".
std::string last_reply(const Recipient& r) {
  return queue::reply_line(r.last_code, r.last_enhanced, r.last_text);
}

// "45s", "3m", "2h", "4d": how long, coarsely.
std::string span(std::chrono::seconds d) {
  int64_t s = std::max<int64_t>(d.count(), 0);
  if (s < 60) {
    return std::to_string(s) + "s";
  }
  if (s < 3600) {
    return std::to_string(s / 60) + "m";
  }
  if (s < 2 * 86400) {
    return std::to_string(s / 3600) + "h";
  }
  return std::to_string(s / 86400) + "d";
}

std::string next_try(const Recipient& r, system_clock::time_point now) {
  if (r.next_attempt <= now) {
    return "now";
  }
  return "in " + span(std::chrono::ceil<std::chrono::seconds>(r.next_attempt - now));
}

int64_t unix_seconds(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string utc_time(system_clock::time_point t) {
  std::time_t tt = static_cast<std::time_t>(unix_seconds(t));
  std::tm tm{};
  char buf[32];
  ::gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// "carol@example.com=pending (2 attempts, next try in 4m)"
std::string rcpt_summary(const Recipient& r, system_clock::time_point now) {
  std::string s = printable(r.address) + "=" + std::string(queue::to_string(r.state)) + " (" +
                  std::to_string(r.attempts) + (r.attempts == 1 ? " attempt" : " attempts");
  if (r.state == RcptState::Pending) {
    s += ", next try " + next_try(r, now);
  }
  return s + ")";
}

// A JSON string literal (RFC 8259 §7) for the stream output below.
std::string json(std::string_view v) {
  std::string out;
  base::append_json_string(out, v);
  return out;
}

void print_json(const Envelope& env, uint64_t size, system_clock::time_point now) {
  std::cout << "{\"id\": " << json(env.id) << ", \"created\": " << unix_seconds(env.created)
            << ", \"age_seconds\": "
            << std::max<int64_t>(unix_seconds(now) - unix_seconds(env.created), 0)
            << ", \"size\": " << size << ", \"from\": " << json(env.from) << ", \"delay_warned\": "
            << (env.delay_warned == system_clock::time_point{}
                    ? std::string("null")
                    : std::to_string(unix_seconds(env.delay_warned)))
            << ", \"recipients\": [";
  for (size_t i = 0; i < env.rcpts.size(); ++i) {
    const Recipient& r = env.rcpts[i];
    std::cout << (i ? ", " : "") << "{\"address\": " << json(r.address)
              << ", \"original\": " << json(r.original)
              << ", \"local\": " << (r.local ? "true" : "false")
              << ", \"state\": " << json(queue::to_string(r.state))
              << ", \"attempts\": " << r.attempts
              << ", \"next_attempt\": " << unix_seconds(r.next_attempt)
              << ", \"last_reply\": " << json(last_reply(r)) << "}";
  }
  std::cout << "]}";
}

std::string sender(const Envelope& env) { return "<" + printable(env.from) + ">"; }

// The destinations backing off (DATA_DIR/destinations, written by the daemon), one line each:
// "backoff gmail.com until 2026-12-06 23:59:00 UTC (in 4m, level 3): 421 4.7.28 ...", or
// "backoff gmail.com ended 2026-12-06 23:59:00 UTC (probing, level 3): ..." once the wait is
// over but no delivery has succeeded yet.
void print_backoffs(const fs::path& data, system_clock::time_point now) {
  std::string text;
  if (base::read_file(queue::backoff_path(data), text)) {
    return;  // none yet, or unreadable: the daemon's log says which
  }
  for (const queue::Backoff& b : queue::parse_backoffs(text)) {
    std::cout << "backoff " << printable(b.destination);
    if (b.until > now) {
      std::cout << " until " << utc_time(b.until) << " (in "
                << span(std::chrono::ceil<std::chrono::seconds>(b.until - now));
    } else {
      // Over: the daemon tries one connection at a time until a delivery succeeds.
      std::cout << " ended " << utc_time(b.until) << " (probing";
    }
    std::cout << ", level " << b.level << "): " << printable(b.reply) << "\n";
  }
}

int queue_list(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"json"}, {"data-dir"});
  args.expect(0, "no arguments");
  auto data = data_dir(ctx, args);
  if (!data) {
    return kExitFailure;
  }
  QueueView view(*data / "queue");
  std::vector<std::string> ids;
  if (std::error_code ec = view.list(ids)) {
    std::cerr << "hikyaku-util: cannot read the queue " << view.dir().string() << ": "
              << ec.message() << "\n";
    return kExitFailure;
  }
  bool as_json = args.has("json");
  bool all_read = true;
  size_t shown = 0;
  system_clock::time_point now = system_clock::now();
  if (as_json) {
    std::cout << "[";
  }
  // One envelope in memory at a time, so that a queue of any size lists in constant memory.
  for (const std::string& id : ids) {
    Envelope env;
    queue::MessageSizes sizes;
    std::error_code ec = view.load_envelope(id, env, &sizes);
    if (ec == std::errc::no_such_file_or_directory) {
      continue;  // delivered or deleted since the directory was read
    }
    if (ec) {
      std::cerr << "hikyaku-util: " << view.message_path(id).string() << ": unreadable ("
                << ec.message() << ")\n";
      all_read = false;
      continue;
    }
    if (as_json) {
      std::cout << (shown ? ",\n " : "\n ");
      print_json(env, sizes.message, now);
    } else {
      std::cout << id << "  " << span(std::chrono::floor<std::chrono::seconds>(now - env.created))
                << "  " << sizes.message << "  " << sender(env) << " ";
      for (size_t i = 0; i < env.rcpts.size(); ++i) {
        std::cout << (i ? ", " : " ") << rcpt_summary(env.rcpts[i], now);
      }
      std::cout << "\n";
    }
    ++shown;
  }
  if (as_json) {
    std::cout << (shown ? "\n]\n" : "]\n");
  } else {
    if (shown == 0) {
      std::cerr << "queue is empty\n";
    }
    print_backoffs(*data, now);
  }
  return all_read ? kExitOk : kExitFailure;
}

// Prints `text` (CRLF line endings) with LF endings; `raw` keeps control characters.
void print_lines(std::string_view text, bool raw) {
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? text.size() : nl;
    size_t line_end = stop > pos && text[stop - 1] == '\r' ? stop - 1 : stop;
    std::string_view line = text.substr(pos, line_end - pos);
    if (raw) {
      std::cout << line << "\n";
    } else {
      std::cout << printable(line) << "\n";
    }
    pos = stop + 1;
  }
}

int queue_show(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"body"}, {"data-dir"});
  args.expect(1, "ID");
  std::string id = parse_id(args.positional()[0]);
  auto data = data_dir(ctx, args);
  if (!data) {
    return kExitFailure;
  }
  QueueView view(*data / "queue");
  Envelope env;
  std::string message;
  std::error_code ec = view.load(id, env, message);
  if (ec == std::errc::no_such_file_or_directory) {
    std::cerr << "hikyaku-util: no message " << id << " in the queue " << view.dir().string()
              << "\n";
    return kExitFailure;
  }
  if (ec) {
    std::cerr << "hikyaku-util: " << view.message_path(id).string() << ": " << ec.message() << "\n";
    return kExitFailure;
  }
  system_clock::time_point now = system_clock::now();
  auto age = std::chrono::floor<std::chrono::seconds>(now - env.created);
  std::cout << "id:         " << env.id << "\n"
            << "created:    " << utc_time(env.created) << " (" << span(age) << " ago)\n"
            << "from:       " << sender(env) << "\n"
            << "size:       " << message.size() << " bytes\n"
            << "client-ip:  " << printable(env.client_ip) << "\n"
            << "helo:       " << printable(env.helo) << "\n"
            << "auth-user:  " << (env.auth_user.empty() ? "-" : printable(env.auth_user)) << "\n"
            << "smtputf8:   " << (env.smtputf8 ? "yes" : "no") << "\n"
            << "body:       " << (env.eightbit ? "8bitmime" : "7bit") << "\n"
            << "warned:     "  // the sender got the delay warning DSN ([queue] delay_warning)
            << (env.delay_warned == system_clock::time_point{}
                    ? std::string("no")
                    : "delay warning sent " + utc_time(env.delay_warned))
            << "\n"
            << "recipients: " << env.rcpts.size() << "\n";
  for (const Recipient& r : env.rcpts) {
    std::cout << "  " << printable(r.address) << "  " << (r.local ? "local" : "remote") << "  "
              << queue::to_string(r.state) << "  " << r.attempts
              << (r.attempts == 1 ? " attempt" : " attempts");
    if (r.state == RcptState::Pending) {
      std::cout << "  next try " << next_try(r, now);
    }
    std::cout << "\n";
    if (r.original != r.address) {
      std::cout << "    as given: " << printable(r.original) << "\n";
    }
    if (!r.sender.empty()) {
      std::cout << "    sent as:  <" << printable(r.sender) << "> (SRS)\n";
    }
    if (std::string reply = last_reply(r); !reply.empty()) {
      std::cout << "    last reply: " << printable(reply) << "\n";
    }
  }
  std::string_view shown = message;
  if (!args.has("body")) {
    // RFC 5322 §2.1: the header section ends at the first empty line.
    size_t blank = shown.starts_with("\r\n") ? 0 : shown.find("\r\n\r\n");
    shown = shown.substr(0, blank == std::string_view::npos ? shown.size() : blank + 2);
  }
  std::cout << "\n";
  // --body is for reading or piping the message as it is; the headers alone are shown safely.
  print_lines(shown, args.has("body"));
  return kExitOk;
}

int queue_flush(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"data-dir"});
  if (args.positional().size() > 1) {
    args.expect(1, "ID");
  }
  std::string id = args.positional().empty() ? "" : parse_id(args.positional()[0]);
  auto data = data_dir(ctx, args);
  if (!data) {
    return kExitFailure;
  }
  QueueView view(*data / "queue");
  if (!id.empty()) {
    std::error_code ec;
    bool queued = fs::exists(view.message_path(id), ec);
    if (ec) {
      std::cerr << "hikyaku-util: " << view.message_path(id).string() << ": " << ec.message()
                << "\n";
      return kExitFailure;
    }
    if (!queued) {
      std::cerr << "hikyaku-util: no message " << id << " in the queue " << view.dir().string()
                << "\n";
      return kExitFailure;
    }
  }
  fs::path socket = *data / "control.sock";
  control::ControlReply reply =
      control::control_request(socket, id.empty() ? "flush" : "flush " + id, kFlushTimeout);
  if (reply.error == std::errc::no_such_file_or_directory ||
      reply.error == std::errc::connection_refused) {
    std::cerr << "hikyaku-util: hikyaku is not running (no " << socket.string() << ")\n";
    return kExitFailure;
  }
  if (!reply.ok) {
    std::cerr << "hikyaku-util: " << (reply.error ? "" : "hikyaku: ") << reply.text << "\n";
    return kExitFailure;
  }
  std::cout << reply.text << "\n";
  return kExitOk;
}

int queue_delete(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"data-dir"});
  args.expect(1, "ID");
  std::string id = parse_id(args.positional()[0]);
  auto data = data_dir(ctx, args);
  if (!data) {
    return kExitFailure;
  }
  // The view only names the files; removing them is this command's own job.
  QueueView view(*data / "queue");
  // The message first, as the store does: a crash in between leaves an orphan .state, which the
  // daemon removes at startup, never a message with stale delivery state.
  if (::unlink(view.message_path(id).c_str()) != 0) {
    std::error_code ec = errno_code();
    if (ec == std::errc::no_such_file_or_directory) {
      std::cerr << "hikyaku-util: no message " << id << " in the queue " << view.dir().string()
                << "\n";
    } else {
      std::cerr << "hikyaku-util: cannot delete " << view.message_path(id).string() << ": "
                << ec.message() << "\n";
    }
    return kExitFailure;
  }
  if (::unlink(view.state_path(id).c_str()) != 0 && errno != ENOENT) {
    std::cerr << "hikyaku-util: warning: " << view.state_path(id).string() << ": "
              << errno_code().message() << " (removed at the next start of hikyaku)\n";
  }
  base::fsync_dir(view.dir());
  std::cout << "deleted " << id << "\n";
  std::cerr << "note: if hikyaku is delivering " << id
            << " right now, that attempt completes; the message is gone from the next one on\n";
  return kExitOk;
}

// `queue SUBCOMMAND ...`: one entry in the command table, dispatched here.
int queue_main(const Context& ctx, const std::vector<std::string>& words) {
  if (words.empty()) {
    throw UsageError("queue needs a subcommand: list, show, flush or delete");
  }
  std::vector<std::string> rest(words.begin() + 1, words.end());
  const std::string& sub = words[0];
  if (sub == "list") {
    return queue_list(ctx, rest);
  }
  if (sub == "show") {
    return queue_show(ctx, rest);
  }
  if (sub == "flush") {
    return queue_flush(ctx, rest);
  }
  if (sub == "delete") {
    return queue_delete(ctx, rest);
  }
  throw UsageError("unknown queue subcommand \"" + sub + "\" (list, show, flush or delete)");
}

constexpr Command kCommands[] = {
    {"queue", "list [--json] | show ID [--body] | flush [ID] | delete ID   [--data-dir DIR]",
     "Inspect and act on the queue in DATA_DIR/queue (data_dir from hikyaku.toml, or --data-dir).\n"
     "list: one line per message: ID, age, size in bytes, <sender>, and per recipient\n"
     "  ADDRESS=STATE (attempts, next try), then a line per destination backing off after a\n"
     "  rate or reputation deferral (backoff DESTINATION until TIME ...); --json prints a JSON\n"
     "  array of the messages instead.\n"
     "show ID: the envelope, every recipient's state and last reply, then the message headers\n"
     "  (--body: the whole message).\n"
     "flush [ID]: ask the running daemon (DATA_DIR/control.sock) to retry every message, or ID,\n"
     "  now; exit 1 when hikyaku is not running.\n"
     "delete ID: remove the message from the queue; exit 1 for an unknown ID. A delivery\n"
     "  attempt already in progress completes; the message is gone from the next one on.",
     queue_main},
};

}  // namespace

std::span<const Command> queue_commands() { return kCommands; }

}  // namespace hk::util
