// sink: the counting SMTP receiver and the memory sampler of hk-bench's delivery test.
#include "sink.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <string>
#include <string_view>

namespace hk::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; a few times that is still a bound.
constexpr std::size_t kMaxLine = 4096;
// A message larger than this ends the session (the bench sends at most a few hundred KiB).
constexpr std::size_t kMaxMessage = 128u << 20;
// RFC 5321 §4.1.1.4: the data ends with a line holding only "."; the CRLF before it ends the last
// line of the message.
constexpr std::string_view kEndOfData = "\r\n.\r\n";

constexpr std::string_view kEhloReply =
    "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 134217728\r\n";

std::string verb_of(std::string_view line) {
  std::string v(line.substr(0, std::min<std::size_t>(line.size(), 4)));
  for (char& c : v) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return v;
}

// Replies are gathered and written only when the client has nothing more buffered that would
// need an answer first, so a pipelined MAIL/RCPT/DATA gets one write (RFC 2920 §3.1).
awaitable<bool> flush(tcp::socket& s, std::string& out) {
  if (out.empty()) {
    co_return true;
  }
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(out), kTuple);
  out.clear();
  co_return !ec;
}

awaitable<void> serve(tcp::socket s, Sink& sink) {
  sink.note_connect();
  std::string in;
  std::string out = "220 sink.test hk-bench sink ESMTP\r\n";
  for (;;) {  // ends on QUIT, EOF, an I/O error or an overlong line
    if (in.find("\r\n") == std::string::npos && !co_await flush(s, out)) {
      co_return;
    }
    auto [ec, n] =
        co_await asio::async_read_until(s, asio::dynamic_buffer(in, kMaxLine), "\r\n", kTuple);
    if (ec) {
      co_return;
    }
    const std::string verb = verb_of(std::string_view(in).substr(0, n - 2));
    in.erase(0, n);
    if (verb == "EHLO") {
      out += kEhloReply;
    } else if (verb == "HELO" || verb == "MAIL" || verb == "RCPT" || verb == "RSET" ||
               verb == "NOOP") {
      out += "250 2.0.0 ok\r\n";
    } else if (verb == "QUIT") {
      out += "221 2.0.0 bye\r\n";
      co_await flush(s, out);
      co_return;
    } else if (verb == "DATA") {
      out += "354 go ahead\r\n";
      if (!co_await flush(s, out)) {
        co_return;
      }
      // An empty message is the end-of-data line alone; otherwise read up to CRLF.CRLF.
      std::size_t end = 0;
      if (in.rfind(".\r\n", 0) == 0) {
        end = 3;
      } else {
        auto [dec, dn] = co_await asio::async_read_until(s, asio::dynamic_buffer(in, kMaxMessage),
                                                         kEndOfData, kTuple);
        if (dec) {
          co_return;
        }
        end = dn;
      }
      in.erase(0, end);
      sink.note_message();
      out += "250 2.0.0 received\r\n";
    } else {
      out += "502 5.5.1 not implemented\r\n";
    }
  }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, Sink& sink) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    if (!ec) {
      asio::co_spawn(acceptor.get_executor(), serve(std::move(s), sink), asio::detached);
    }
  }
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

}  // namespace

Sink::Sink(const tcp::endpoint& at, int expect) : acceptor_(io_, at), expect_(expect) {}

Sink::~Sink() { stop(); }

void Sink::start() {
  asio::co_spawn(io_, accept_loop(acceptor_, *this), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void Sink::stop() {
  if (!thread_.joinable()) {
    return;
  }
  io_.stop();
  thread_.join();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Sink::note_connect() {
  long long unset = -1;
  first_ns_.compare_exchange_strong(unset, now_ns());
}

void Sink::note_message() {
  if (received_.fetch_add(1) + 1 == expect_) {
    nth_ns_.store(now_ns());
  }
}

SteadyClock::time_point Sink::at(const std::atomic<long long>& ns) {
  const long long v = ns.load();
  return v < 0 ? SteadyClock::time_point::max()
               : SteadyClock::time_point(std::chrono::nanoseconds(v));
}

MemorySampler::MemorySampler(std::vector<int> roots, std::chrono::milliseconds period)
    : roots_(std::move(roots)), period_(period) {
  if (!roots_.empty()) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        sample();
        std::this_thread::sleep_for(period_);
      }
    });
  }
}

MemorySampler::~MemorySampler() { stop(); }

Memory MemorySampler::stop() {
  if (thread_.joinable()) {
    stop_.store(true);
    thread_.join();
    sample();
  }
  return peak_;
}

void MemorySampler::sample() {
  const Memory m = tree_memory(roots_);
  peak_.pss_kib = std::max(peak_.pss_kib, m.pss_kib);
  peak_.rss_kib = std::max(peak_.rss_kib, m.rss_kib);
  peak_.processes = std::max(peak_.processes, m.processes);
}

}  // namespace hk::bench
