// hk-bench: an SMTP load generator that compares hikyaku with chasquid and Postfix on loopback.
// It measures throughput and per-message latency over N sessions, the server's CPU time per
// message (read from /proc over the server's whole process tree) and its memory per idle
// connection; with --sink, end-to-end delivery through the server to a counting SMTP sink
// (sink.hpp) and the server's peak memory meanwhile. With --tls and --auth, sessions speak
// STARTTLS (RFC 3207) or implicit TLS (RFC 8314) and log in with AUTH PLAIN (RFC 4954), and
// --per-connection 1 sends one message per connection, as web applications submit mail.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "proc_tree.hpp"
#include "sink.hpp"

namespace hk::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// RFC 5321 §4.5.3.1.5 bounds a reply line at 512 octets; a multi-line EHLO reply rarely has more
// than 20 lines. These bounds only keep a misbehaving server from making us loop or buffer forever.
constexpr int kMaxReplyLines = 100;
constexpr std::size_t kMaxReplyBytes = 64 * 1024;
// Idle connections are opened this many at a time, so that a forking server (Postfix spawns one
// smtpd per connection) is not asked for 1000 processes within one millisecond.
constexpr int kIdleBatch = 50;
// How long a session waits before sending again a message that got a 4yz reply.
constexpr auto kDeferPause = std::chrono::milliseconds(20);
// How often a connection's watchdog compares the time with the deadline of the pending step.
constexpr auto kWatchdogTick = std::chrono::milliseconds(500);
// How often the delivery and drain modes read the server's memory, and how long they keep
// counting after the last expected message (to see duplicates).
constexpr auto kMemoryPeriod = std::chrono::milliseconds(100);
constexpr auto kDuplicateGrace = std::chrono::seconds(1);

struct Options {
  tcp::endpoint server;
  int sessions = 1;
  std::size_t size = 1024;
  int messages = 100;
  std::string rcpt = "sink@bench.test";
  std::string from = "bench@client.test";
  int idle = 0;
  int hold = 0;           // load mode: silent connections held open while the sessions send
  std::vector<int> pids;  // roots of the server's process tree
  std::string label = "server";
  bool csv = false;
  std::chrono::seconds reply_timeout{30};
  std::chrono::seconds settle{20};
  std::optional<tcp::endpoint> sink;  // delivery mode: the sink the server relays to
  bool have_server = false;           // without it, --sink is the drain mode: the sink alone
  std::string ready_file;             // drain mode: created once the sink listens
  std::chrono::seconds deliver_timeout{600};
  bool memory = false;  // print the memory of the --pid tree and exit
  // Submission: TLS (none, "starttls" or "implicit"), AUTH PLAIN credentials ("user:password",
  // empty = no AUTH), and messages per connection before QUIT and a new connection (0 = as many
  // as the run needs). The TLS client offers no session to resume: every connection makes a full
  // handshake, as a web application's mail library does.
  enum class Tls { None, StartTls, Implicit } tls = Tls::None;
  std::string auth_user;
  std::string auth_password;
  int per_connection = 0;
  asio::ssl::context* tls_context = nullptr;
};

// ---- Messages ----------------------------------------------------------------------------------

// The part of every message after its headers: plain-text paragraphs in CRLF lines of at most 76
// characters (RFC 5322 §2.1.1 asks for 78), none starting with '.', so no dot-stuffing is needed,
// then the end-of-data marker (RFC 5321 §4.1.1.4).
std::string make_body(std::size_t bytes) {
  static constexpr std::string_view kWords[] = {
      "parcel",  "courier", "relay",   "letter",  "station", "runner",  "mountain", "river",
      "road",    "message", "quickly", "through", "valley",  "evening", "bridge",   "village",
      "carried", "sealed",  "north",   "the",     "a",       "of",      "and",      "to"};
  std::string body;
  body.reserve(bytes + 128);
  unsigned seed = 12345;
  std::string line;
  int line_no = 0;
  while (body.size() + 2 < bytes) {  // bounded: every turn appends at least "\r\n"
    line.clear();
    const std::size_t room = std::min<std::size_t>(76, bytes - body.size() - 2);
    if (++line_no % 12 != 0) {  // a blank line between paragraphs
      while (true) {
        seed = seed * 1103515245u + 12345u;
        std::string_view w = kWords[(seed >> 16) % std::size(kWords)];
        if (line.size() + w.size() + 1 > room) {
          break;
        }
        line += line.empty() ? "" : " ";
        line += w;
      }
      if (line.empty()) {
        line.assign(room, 'x');
      }
    }
    body += line;
    body += "\r\n";
  }
  body += ".\r\n";
  return body;
}

std::string make_headers(const Options& o, int session, int seq, long run_id) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string h;
  h.reserve(512);
  h += "Date: ";
  h += date;
  h += "\r\nFrom: Bench Sender <" + o.from + ">\r\nTo: Bench Sink <" + o.rcpt + ">\r\n";
  h += "Subject: hk-bench message " + std::to_string(seq) + " of session " +
       std::to_string(session) + "\r\n";
  h += "Message-ID: <hkbench." + std::to_string(run_id) + "." + std::to_string(session) + "." +
       std::to_string(seq) + "@client.test>\r\n";
  h += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n";
  h += "Content-Transfer-Encoding: 7bit\r\n\r\n";
  return h;
}

// ---- SMTP client -------------------------------------------------------------------------------

struct Conn {
  explicit Conn(asio::any_io_executor ex) : sock(std::move(ex)) {}
  tcp::socket sock;
  // Over `sock` once TLS is up; reset with every new connection.
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  std::string in;  // received bytes not consumed yet
  Clock::time_point deadline = Clock::time_point::max();
};

// Reads and writes go through TLS once it is up.
template <class Buffers>
awaitable<std::tuple<boost::system::error_code, std::size_t>> write_all(Conn& c, const Buffers& b) {
  if (c.tls) {
    co_return co_await asio::async_write(*c.tls, b, kTuple);
  }
  co_return co_await asio::async_write(c.sock, b, kTuple);
}

awaitable<std::tuple<boost::system::error_code, std::size_t>> read_line(Conn& c) {
  auto buffer = asio::dynamic_buffer(c.in, kMaxReplyBytes);
  if (c.tls) {
    co_return co_await asio::async_read_until(*c.tls, buffer, "\r\n", kTuple);
  }
  co_return co_await asio::async_read_until(c.sock, buffer, "\r\n", kTuple);
}

// Closes the socket once the deadline of the pending step has passed; every step sets its own
// deadline. It checks once per tick rather than sleeping until the deadline, so that a session that
// reconnects with a new deadline is watched as well.
awaitable<void> watchdog(Conn& c) {
  asio::steady_timer timer(c.sock.get_executor());
  for (;;) {  // ends when the coroutine it guards finishes and cancels it
    timer.expires_after(kWatchdogTick);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) {
      co_return;
    }
    if (Clock::now() >= c.deadline) {
      boost::system::error_code ignored;
      c.sock.close(ignored);
      c.deadline = Clock::time_point::max();
    }
  }
}

// Reads one reply (RFC 5321 §4.2.1: "ddd-" on continuation lines, "ddd " or "ddd" on the last)
// and returns its code, or 0 on an I/O error, a timeout or a malformed reply.
awaitable<int> read_reply(Conn& c, std::chrono::seconds timeout) {
  c.deadline = Clock::now() + timeout;
  for (int i = 0; i < kMaxReplyLines; ++i) {
    auto [ec, n] = co_await read_line(c);
    if (ec) {
      co_return 0;
    }
    std::string_view line(c.in.data(), n - 2);
    bool ok = line.size() >= 3 && std::all_of(line.begin(), line.begin() + 3, ::isdigit) &&
              (line.size() == 3 || line[3] == ' ' || line[3] == '-');
    bool last = ok && (line.size() == 3 || line[3] == ' ');
    int code = ok ? std::stoi(std::string(line.substr(0, 3))) : 0;
    c.in.erase(0, n);
    if (!ok || last) {
      co_return code;
    }
  }
  co_return 0;
}

awaitable<int> command(Conn& c, std::string_view line, std::chrono::seconds timeout) {
  c.deadline = Clock::now() + timeout;
  auto [ec, n] = co_await write_all(c, asio::buffer(line));
  if (ec) {
    co_return 0;
  }
  co_return co_await read_reply(c, timeout);
}

awaitable<bool> handshake(Conn& c, const Options& o) {
  c.deadline = Clock::now() + o.reply_timeout;
  c.tls.emplace(c.sock, *o.tls_context);
  auto [ec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, kTuple);
  co_return !ec;
}

// RFC 4954 §4 with the initial response; PLAIN is RFC 4616: authzid NUL authcid NUL password.
std::string auth_plain_command(const Options& o) {
  const std::string plain = std::string(1, '\0') + o.auth_user + '\0' + o.auth_password;
  std::string b64(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  b64.resize(static_cast<std::size_t>(n));
  return "AUTH PLAIN " + b64 + "\r\n";
}

// Connects, reads the greeting and says EHLO, then, as asked, STARTTLS and EHLO again (or TLS
// first, on an implicit-TLS port) and AUTH; true when every step got its positive reply.
awaitable<bool> open_session(Conn& c, const Options& o) {
  c.tls.reset();
  c.deadline = Clock::now() + o.reply_timeout;
  auto [ec] = co_await c.sock.async_connect(o.server, kTuple);
  if (ec) {
    co_return false;
  }
  if (o.tls == Options::Tls::Implicit) {
    const bool up = co_await handshake(c, o);
    if (!up) {
      co_return false;
    }
  }
  if (co_await read_reply(c, o.reply_timeout) != 220) {
    co_return false;
  }
  if (co_await command(c, "EHLO client.bench.test\r\n", o.reply_timeout) != 250) {
    co_return false;
  }
  if (o.tls == Options::Tls::StartTls) {
    if (co_await command(c, "STARTTLS\r\n", o.reply_timeout) != 220 || !c.in.empty()) {
      co_return false;
    }
    const bool up = co_await handshake(c, o);
    if (!up) {
      co_return false;
    }
    // RFC 3207 §4.2: the client starts over with EHLO.
    if (co_await command(c, "EHLO client.bench.test\r\n", o.reply_timeout) != 250) {
      co_return false;
    }
  }
  if (!o.auth_user.empty()) {
    co_return co_await command(c, auth_plain_command(o), o.reply_timeout) == 235;
  }
  co_return true;
}

enum class Outcome { Accepted, Deferred, Rejected, Broken };

// A 4yz reply is a transient failure, to be tried again later (RFC 5321 §4.2.1): chasquid, for
// one, answers 451 while its queue is full. Anything else but the expected code is a rejection.
Outcome failure(int code) {
  return code == 0 ? Outcome::Broken : code / 100 == 4 ? Outcome::Deferred : Outcome::Rejected;
}

// One MAIL/RCPT/DATA transaction, one command at a time (no PIPELINING, so that every server is
// driven the same way).
awaitable<Outcome> transaction(Conn& c, const Options& o, const std::string& headers,
                               const std::string& body) {
  const auto t = o.reply_timeout;
  int code = co_await command(c, "MAIL FROM:<" + o.from + ">\r\n", t);
  if (code != 250) {
    co_return failure(code);
  }
  code = co_await command(c, "RCPT TO:<" + o.rcpt + ">\r\n", t);
  if (code != 250 && code != 251) {
    co_return failure(code);
  }
  code = co_await command(c, "DATA\r\n", t);
  if (code != 354) {
    co_return failure(code);
  }
  c.deadline = Clock::now() + t;
  std::array<asio::const_buffer, 2> data{asio::buffer(headers), asio::buffer(body)};
  auto [ec, n] = co_await write_all(c, data);
  if (ec) {
    co_return Outcome::Broken;
  }
  code = co_await read_reply(c, t);
  co_return code == 250 ? Outcome::Accepted : failure(code);
}

// Run-wide state of the throughput test; one I/O thread, so plain fields suffice.
struct Run {
  int remaining = 0;  // messages not yet handed to a session
  int accepted = 0;
  int errors = 0;    // rejections and broken connections
  int unopened = 0;  // connections that got no 220 greeting or no 250 to EHLO (also in errors)
  int deferred = 0;  // 4yz replies, sent again after a pause
  int max_errors = 0;
  int max_deferred = 0;
  long run_id = 0;
  std::vector<double> latencies_ms;
  Clock::time_point last_accept;
};

// Sends messages over one connection until the run has enough of them. A connection the server
// closes (chasquid does after three 4yz replies, RFC 5321 §3.8) is opened again; every failure
// counts towards a bound, so the loop ends.
awaitable<void> session(Conn& c, int id, const Options& o, const std::string& body, Run& run) {
  int seq = 0;
  bool open = false;
  int sent_here = 0;  // messages accepted on this connection
  Clock::time_point opened_at;
  asio::steady_timer pause(c.sock.get_executor());
  while (run.remaining > 0 && run.errors <= run.max_errors && run.deferred <= run.max_deferred) {
    if (!open) {
      boost::system::error_code ignored;
      c.tls.reset();
      c.sock.close(ignored);
      c.in.clear();
      opened_at = Clock::now();
      sent_here = 0;
      open = co_await open_session(c, o);
      if (!open) {
        ++run.errors;
        ++run.unopened;
      }
      continue;  // other sessions ran meanwhile: look at `remaining` again
    }
    --run.remaining;
    std::string headers = make_headers(o, id, seq++, run.run_id);
    // The first message of a connection waits for the connection (TLS, AUTH) too.
    const auto t0 = sent_here == 0 ? opened_at : Clock::now();
    Outcome r = co_await transaction(c, o, headers, body);
    if (r == Outcome::Accepted) {
      run.last_accept = Clock::now();
      run.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(run.last_accept - t0).count());
      ++run.accepted;
      if (++sent_here == o.per_connection) {
        co_await command(c, "QUIT\r\n", o.reply_timeout);
        open = false;
      }
      continue;
    }
    ++(r == Outcome::Deferred ? run.deferred : run.errors);
    ++run.remaining;  // another turn (or session) sends it again
    if (r == Outcome::Broken || co_await command(c, "RSET\r\n", o.reply_timeout) != 250) {
      open = false;
    }
    if (r == Outcome::Deferred) {  // give the server's queue a moment to drain
      pause.expires_after(kDeferPause);
      co_await pause.async_wait(kTuple);
    }
  }
  if (open) {
    co_await command(c, "QUIT\r\n", std::chrono::seconds(2));
  }
}

awaitable<void> guarded_session(Conn& c, int id, const Options& o, const std::string& body,
                                Run& run) {
  co_await (session(c, id, o, body, run) || watchdog(c));
}

// Opens one connection for the idle test and leaves it open, counting it in `opened`.
awaitable<void> idle_connection(Conn& c, const Options& o, int& opened) {
  auto r = co_await (open_session(c, o) || watchdog(c));
  if (r.index() == 0 && std::get<0>(r)) {
    ++opened;
  }
}

void log_exception(std::exception_ptr e) {
  if (e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "hk-bench: session failed: %s\n", ex.what());
    }
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return NAN;
  }
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

// CSV layout, shared by both modes (empty where a mode has no value).
constexpr const char* kCsvHeader =
    "label,mode,sessions,size,messages,accepted,errors,deferred,elapsed_s,msgs_per_s,p50_ms,p99_ms,"
    "cpu_ms_per_msg,bench_cpu_ms_per_msg,idle_open,pss_kib_per_conn,rss_kib_per_conn";

std::string num(double v, int decimals) {
  if (std::isnan(v)) {
    return "";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Sends o.messages messages over o.sessions sessions; `t0` is set to the moment before the first
// connect.
Run send_messages(const Options& o, Clock::time_point& t0) {
  asio::io_context io(1);
  // Headers differ per message by a few digits; the body makes up the rest of the size.
  const std::size_t header_size = make_headers(o, 0, 0, 0).size();
  const std::string body = make_body(o.size > header_size ? o.size - header_size : 0);
  Run run;
  run.remaining = o.messages;
  run.max_errors = std::max(10, o.messages / 10);
  run.max_deferred = 20 * o.messages;
  run.run_id = static_cast<long>(std::time(nullptr)) * 100000 + getpid() % 100000;
  run.latencies_ms.reserve(static_cast<std::size_t>(o.messages));
  std::deque<Conn> conns;
  t0 = Clock::now();
  run.last_accept = t0;
  for (int i = 0; i < o.sessions; ++i) {
    conns.emplace_back(io.get_executor());
    asio::co_spawn(io, guarded_session(conns.back(), i, o, body, run), log_exception);
  }
  io.run();
  return run;
}

int run_throughput(const Options& o) {
  const double cpu0 = o.pids.empty() ? NAN : tree_cpu_ms(o.pids);
  const double self0 = self_cpu_ms();
  Clock::time_point t0;
  const Run run = send_messages(o, t0);
  const double elapsed = std::chrono::duration<double>(run.last_accept - t0).count();
  const double self_ms = self_cpu_ms() - self0;
  const double cpu_ms = o.pids.empty() ? NAN : settled_cpu_ms(o.pids, o.settle) - cpu0;

  const double acc = std::max(1, run.accepted);
  const double rate = elapsed > 0 ? run.accepted / elapsed : 0;
  const double p50 = percentile(run.latencies_ms, 0.50);
  const double p99 = percentile(run.latencies_ms, 0.99);
  if (o.csv) {
    std::printf("%s,throughput,%d,%zu,%d,%d,%d,%d,%s,%s,%s,%s,%s,%s,,,\n", o.label.c_str(),
                o.sessions, o.size, o.messages, run.accepted, run.errors, run.deferred,
                num(elapsed, 3).c_str(), num(rate, 1).c_str(), num(p50, 3).c_str(),
                num(p99, 3).c_str(), num(cpu_ms / acc, 3).c_str(), num(self_ms / acc, 3).c_str());
  } else {
    std::printf(
        "%s: %d sessions, %zu-byte messages: %d accepted, %d errors, %d deferred in %.2f s\n",
        o.label.c_str(), o.sessions, o.size, run.accepted, run.errors, run.deferred, elapsed);
    std::printf("  %.1f msg/s, latency p50 %.2f ms, p99 %.2f ms\n", rate, p50, p99);
    std::printf("  server CPU %s ms/msg, hk-bench CPU %.3f ms/msg\n",
                o.pids.empty() ? "(no --pid)" : num(cpu_ms / acc, 3).c_str(), self_ms / acc);
  }
  return run.accepted == o.messages ? 0 : 1;
}

// Output of the load, delivery, drain and memory modes: one line of key=value pairs, for run.sh.
void print_memory(const char* prefix, const Memory& m) {
  std::printf(" %spss_kib=%lld %srss_kib=%lld %sprocesses=%d", prefix, m.pss_kib, prefix, m.rss_kib,
              prefix, m.processes);
}

// Opens `n` connections (greeting and EHLO each, kIdleBatch at a time) and leaves them open in
// `conns`; returns how many opened.
int open_idle(asio::io_context& io, std::deque<Conn>& conns, const Options& o, int n) {
  int opened = 0;
  for (int start = 0; start < n; start += kIdleBatch) {
    const int batch = std::min(kIdleBatch, n - start);
    std::vector<Conn*> these;
    for (int i = 0; i < batch; ++i) {
      these.push_back(&conns.emplace_back(io.get_executor()));
    }
    for (Conn* c : these) {
      asio::co_spawn(io, idle_connection(*c, o, opened), log_exception);
    }
    io.run();
    io.restart();
  }
  return opened;
}

void close_all(std::deque<Conn>& conns) {
  for (Conn& c : conns) {
    boost::system::error_code ignored;
    c.sock.close(ignored);
  }
}

int run_idle(const Options& o) {
  asio::io_context io(1);
  std::deque<Conn> conns;
  const Memory before = tree_memory(o.pids);
  const int opened = open_idle(io, conns, o, o.idle);
  // Give the server a moment to finish what each connection set up (a forked smtpd, a goroutine).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Memory after = tree_memory(o.pids);
  const double n = std::max(1, opened);
  const double pss = static_cast<double>(after.pss_kib - before.pss_kib) / n;
  const double rss = static_cast<double>(after.rss_kib - before.rss_kib) / n;
  close_all(conns);
  if (o.csv) {
    std::printf("%s,idle,,,,,%d,,,,,,,,%d,%s,%s\n", o.label.c_str(), o.idle - opened, opened,
                num(pss, 1).c_str(), num(rss, 1).c_str());
  } else {
    std::printf("%s: %d of %d idle connections open\n", o.label.c_str(), opened, o.idle);
    std::printf("  server PSS %lld -> %lld KiB (%d -> %d processes): %.1f KiB per connection\n",
                before.pss_kib, after.pss_kib, before.processes, after.processes, pss);
    std::printf("  server RSS %lld -> %lld KiB: %.1f KiB per connection\n", before.rss_kib,
                after.rss_kib, rss);
  }
  return opened == o.idle ? 0 : 1;
}

// Load: `hold` silent connections are opened and held (greeted, EHLO said, then nothing), and
// while they stay open `sessions` more send `messages` messages. Prints one key=value line: what
// opened, what was accepted, refused or deferred, and the server's CPU and peak memory over the
// whole run (the silent connections included).
int run_load(const Options& o) {
  const Memory base = tree_memory(o.pids);
  MemorySampler sampler(o.pids, kMemoryPeriod);
  const double cpu0 = tree_cpu_ms(o.pids);
  asio::io_context idle_io(1);
  std::deque<Conn> held;
  const auto h0 = Clock::now();
  const int opened = open_idle(idle_io, held, o, o.hold);
  const double hold_s = std::chrono::duration<double>(Clock::now() - h0).count();
  const Memory holding = tree_memory(o.pids);
  const double cpu_hold = tree_cpu_ms(o.pids) - cpu0;
  Clock::time_point t0;
  const Run run = send_messages(o, t0);
  const double elapsed = std::chrono::duration<double>(run.last_accept - t0).count();
  const double cpu_ms = settled_cpu_ms(o.pids, o.settle) - cpu0;
  const Memory peak = sampler.stop();
  // Still open at the end? A silent connection that the server closed reads EOF at once.
  int still_open = 0;
  for (Conn& c : held) {
    boost::system::error_code ec;
    c.sock.non_blocking(true, ec);
    char byte;
    c.sock.read_some(asio::buffer(&byte, 1), ec);
    still_open += ec == asio::error::would_block ? 1 : 0;
  }
  close_all(held);
  const double acc = std::max(1, run.accepted);
  std::printf(
      "label=%s mode=load hold=%d held_open=%d held_at_end=%d hold_s=%s sessions=%d size=%zu "
      "messages=%d accepted=%d errors=%d unopened=%d deferred=%d elapsed_s=%s msgs_per_s=%s "
      "cpu_ms_hold=%s cpu_ms_total=%s cpu_ms_per_msg=%s",
      o.label.c_str(), o.hold, opened, still_open, num(hold_s, 2).c_str(), o.sessions, o.size,
      o.messages, run.accepted, run.errors, run.unopened, run.deferred, num(elapsed, 3).c_str(),
      num(elapsed > 0 ? run.accepted / elapsed : NAN, 1).c_str(), num(cpu_hold, 0).c_str(),
      num(cpu_ms, 0).c_str(), num(cpu_ms / acc, 3).c_str());
  print_memory("base_", base);
  print_memory("holding_", holding);
  print_memory("peak_", peak);
  std::printf("\n");
  return opened == o.hold && run.accepted == o.messages ? 0 : 1;
}

// ---- Delivery
// ------------------------------------------------------------------------------------

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return b == Clock::time_point::max() ? NAN : std::chrono::duration<double>(b - a).count();
}

// Waits until the sink holds `n` messages or the timeout passes, then a moment more so that
// duplicates show, and says whether all `n` arrived.
bool await_sink(const Sink& sink, int n, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (sink.received() < n && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool all = sink.received() >= n;
  if (all) {
    std::this_thread::sleep_for(kDuplicateGrace);
  }
  return all;
}

// End to end: sends the messages to the server, which relays them to the sink; the time runs from
// the first connect to the arrival of the last message at the sink.
int run_delivery(const Options& o) {
  Sink sink(*o.sink, o.messages);
  sink.start();
  const Memory base = tree_memory(o.pids);
  MemorySampler sampler(o.pids, kMemoryPeriod);
  const double cpu0 = tree_cpu_ms(o.pids);
  const double self0 = self_cpu_ms();
  Clock::time_point t0;
  const Run run = send_messages(o, t0);
  const double accept_s = std::chrono::duration<double>(run.last_accept - t0).count();
  const bool all = await_sink(sink, o.messages, o.deliver_timeout);
  // Includes the sink's short wait after the last message, idle time for both.
  const double cpu_ms = tree_cpu_ms(o.pids) - cpu0;
  const double self_ms = self_cpu_ms() - self0;
  const Memory peak = sampler.stop();
  sink.stop();
  const double elapsed = seconds_between(t0, sink.nth_received());
  const double acc = std::max(1, run.accepted);
  std::printf(
      "label=%s mode=delivery sessions=%d size=%zu messages=%d accepted=%d errors=%d "
      "deferred=%d received=%d accept_s=%s elapsed_s=%s msgs_per_s=%s",
      o.label.c_str(), o.sessions, o.size, o.messages, run.accepted, run.errors, run.deferred,
      sink.received(), num(accept_s, 3).c_str(), num(elapsed, 3).c_str(),
      num(all ? o.messages / elapsed : NAN, 1).c_str());
  std::printf(" cpu_ms_per_msg=%s bench_cpu_ms_per_msg=%s", num(cpu_ms / acc, 3).c_str(),
              num(self_ms / acc, 3).c_str());
  print_memory("base_", base);
  print_memory("peak_", peak);
  std::printf("\n");
  return all && run.accepted == o.messages ? 0 : 1;
}

// The sink alone, for draining a server's queue: the time runs from the moment it listens (the
// ready file appears) to the arrival of the N-th message.
int run_drain(const Options& o) {
  Sink sink(*o.sink, o.messages);
  MemorySampler sampler(o.pids, kMemoryPeriod);
  sink.start();
  const auto t0 = Clock::now();
  if (!o.ready_file.empty()) {
    std::ofstream(o.ready_file) << "listening\n";
  }
  const bool all = await_sink(sink, o.messages, o.deliver_timeout);
  const Memory peak = sampler.stop();
  sink.stop();
  const double elapsed = seconds_between(t0, sink.nth_received());
  std::printf("label=%s mode=drain messages=%d received=%d first_s=%s elapsed_s=%s msgs_per_s=%s",
              o.label.c_str(), o.messages, sink.received(),
              num(seconds_between(t0, sink.first_connect()), 3).c_str(), num(elapsed, 3).c_str(),
              num(all ? o.messages / elapsed : NAN, 1).c_str());
  print_memory("peak_", peak);
  std::printf("\n");
  return all ? 0 : 1;
}

// ---- Command line ------------------------------------------------------------------------------

constexpr const char* kUsage =
    "usage: hk-bench --server HOST:PORT [--sessions N] [--size BYTES] [--messages M]\n"
    "                [--rcpt ADDR] [--from ADDR] [--idle N] [--pid PID[,PID...]]\n"
    "                [--label NAME] [--csv] [--csv-header] [--timeout S] [--settle S]\n"
    "       hk-bench --server HOST:PORT --sink HOST:PORT [--messages N] [--sessions N]\n"
    "                [--size BYTES] [--rcpt ADDR] [--pid PID] [--deliver-timeout S]\n"
    "       hk-bench --sink HOST:PORT --messages N [--ready-file F] [--pid PID]\n"
    "       hk-bench --server HOST:PORT --hold N --sessions S --messages M --pid PID\n"
    "                [--size BYTES] (load: N silent connections held while S sessions send)\n"
    "       hk-bench --memory --pid PID[,PID...]\n"
    "Submission: [--tls starttls|implicit] [--auth USER:PASSWORD] [--per-connection N]\n"
    "HOST must be a loopback address. --pid names the roots of the server's process tree.\n"
    "With --server and --sink: delivery through the server to a sink that hk-bench runs; with\n"
    "--sink alone: only the sink, until N messages arrived (draining a queue).\n";

tcp::endpoint parse_server(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument("--server and --sink want HOST:PORT");
  }
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto addr = asio::ip::make_address(host);
  // This program generates load: it must only ever aim at this machine.
  if (!addr.is_loopback()) {
    throw std::invalid_argument("--server and --sink must be loopback addresses");
  }
  return {addr, static_cast<unsigned short>(std::stoi(s.substr(colon + 1)))};
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(a + " wants a value");
      }
      return argv[++i];
    };
    if (a == "--server") {
      o.server = parse_server(value());
      o.have_server = true;
    } else if (a == "--sink") {
      o.sink = parse_server(value());
    } else if (a == "--ready-file") {
      o.ready_file = value();
    } else if (a == "--deliver-timeout") {
      o.deliver_timeout = std::chrono::seconds(std::stoi(value()));
    } else if (a == "--memory") {
      o.memory = true;
    } else if (a == "--sessions") {
      o.sessions = std::stoi(value());
    } else if (a == "--size") {
      o.size = std::stoul(value());
    } else if (a == "--messages") {
      o.messages = std::stoi(value());
    } else if (a == "--rcpt") {
      o.rcpt = value();
    } else if (a == "--from") {
      o.from = value();
    } else if (a == "--idle") {
      o.idle = std::stoi(value());
    } else if (a == "--hold") {
      o.hold = std::stoi(value());
    } else if (a == "--pid") {
      std::stringstream list(value());
      for (std::string p; std::getline(list, p, ',');) {
        o.pids.push_back(std::stoi(p));
      }
    } else if (a == "--tls") {
      const std::string mode = value();
      if (mode != "starttls" && mode != "implicit") {
        throw std::invalid_argument("--tls wants starttls or implicit");
      }
      o.tls = mode == "starttls" ? Options::Tls::StartTls : Options::Tls::Implicit;
    } else if (a == "--auth") {
      const std::string credentials = value();
      const auto colon = credentials.find(':');
      if (colon == std::string::npos || colon == 0) {
        throw std::invalid_argument("--auth wants USER:PASSWORD");
      }
      o.auth_user = credentials.substr(0, colon);
      o.auth_password = credentials.substr(colon + 1);
    } else if (a == "--per-connection") {
      o.per_connection = std::stoi(value());
    } else if (a == "--label") {
      o.label = value();
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "--timeout") {
      o.reply_timeout = std::chrono::seconds(std::stoi(value()));
    } else if (a == "--settle") {
      o.settle = std::chrono::seconds(std::stoi(value()));
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if ((o.idle > 0 || o.hold > 0) && o.pids.empty()) {
    throw std::invalid_argument("--idle measures the server's memory: it needs --pid");
  }
  if (o.memory && o.pids.empty()) {
    throw std::invalid_argument("--memory needs --pid");
  }
  if (!o.have_server && !o.sink && !o.memory) {
    throw std::invalid_argument("--server is required");
  }
  if (!o.auth_user.empty() && o.tls == Options::Tls::None) {
    throw std::invalid_argument("--auth needs --tls (servers offer AUTH only under TLS)");
  }
  if (o.sessions < 1 || o.messages < 1 || o.idle < 0 || o.per_connection < 0 ||
      o.size > (64u << 20)) {
    throw std::invalid_argument("--sessions and --messages must be >= 1, --size <= 64 MiB");
  }
  return o;
}

// Idle connections need one descriptor each; take all the hard limit allows.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace
}  // namespace hk::bench

int main(int argc, char** argv) {
  using namespace hk::bench;
  if (argc == 2 && std::string_view(argv[1]) == "--csv-header") {
    std::printf("%s\n", kCsvHeader);
    return 0;
  }
  Options o;
  try {
    o = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hk-bench: %s\n%s", e.what(), kUsage);
    return 2;
  }
  raise_fd_limit();
  // The benchmark's servers use throwaway self-signed certificates: nothing to verify. Session
  // caching stays off on the client, so no connection resumes another's session.
  asio::ssl::context tls_context(asio::ssl::context::tls_client);
  tls_context.set_verify_mode(asio::ssl::verify_none);
  SSL_CTX_set_session_cache_mode(tls_context.native_handle(), SSL_SESS_CACHE_OFF);
  o.tls_context = &tls_context;
  try {
    if (o.memory) {
      print_memory("", tree_memory(o.pids));
      std::printf("\n");
      return 0;
    }
    if (o.sink) {
      return o.have_server ? run_delivery(o) : run_drain(o);
    }
  } catch (const std::exception& e) {  // the sink cannot listen
    std::fprintf(stderr, "hk-bench: %s\n", e.what());
    return 2;
  }
  if (o.hold > 0) {
    return run_load(o);
  }
  return o.idle > 0 ? run_idle(o) : run_throughput(o);
}
