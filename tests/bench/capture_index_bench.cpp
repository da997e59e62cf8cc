// hk-capture-index-bench: the console's list, search and find latency over a capture index of
// 100,000 messages (issue 12's benchmark), and the index's memory per message. With --startup
// DIR it also writes that many capture files into DIR/capture and times a CaptureStore's startup
// scan over them (the daemon's restart with a full capture).
//
// Usage: hk-capture-index-bench [--messages N] [--startup DIR]
// Not a test: it prints figures (docs/capture.md quotes them) and exits 0.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/capture/capture_store.hpp"
#include "daemon/capture/index.hpp"
#include "daemon/queue/queue_store.hpp"
#include "lib/queue/queue_file.hpp"

namespace {

using hk::capture::Index;
using hk::capture::Query;
using hk::capture::Summary;
using Clock = std::chrono::steady_clock;

const std::vector<std::string_view> kWords = {
    "account", "password", "reset",   "welcome", "invoice", "order",    "shipped", "confirm",
    "your",    "the",      "link",    "below",   "click",   "security", "notice",  "weekly",
    "report",  "team",     "meeting", "update",  "receipt", "payment",  "failed",  "trial",
    "ends",    "soon",     "new",     "login",   "from",    "device",   "verify",  "email"};
const std::vector<std::string_view> kNames = {"Alice Example", "Bob Builder", "Carol Jones",
                                              "Dave Smith",    "Shop Robot",  "Billing",
                                              "Support Team",  "Émile Zola"};

std::string words(std::mt19937& rng, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += kWords[rng() % kWords.size()];
  }
  return out;
}

// A summary as a web app's mail would give: one sender of a few, one recipient of many.
Summary synthetic(std::mt19937& rng, size_t i, std::string id) {
  Summary s;
  s.id = std::move(id);
  s.created = std::chrono::system_clock::now();
  s.message_id = "msg" + std::to_string(i) + "@app.example";
  std::string_view name = kNames[rng() % kNames.size()];
  s.from = {std::string(name), "noreply@app.example"};
  s.to = {{"", "user" + std::to_string(rng() % 20000) + "@example.net"}};
  s.envelope_from = "bounce@app.example";
  s.envelope_to = {s.to[0].address};
  s.subject = words(rng, 5) + " #" + std::to_string(i);
  s.snippet = words(rng, 40).substr(0, 250);
  s.size = 1500 + rng() % 5000;
  s.attachments = rng() % 10 == 0 ? 1 : 0;
  s.read = rng() % 3 == 0;
  return s;
}

struct Stats {
  double median_ms;
  double p99_ms;
  double cpu_median_ms;  // this thread's CPU time: what the figure would be on an idle host
};

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

Stats measure(size_t reps, const std::function<void()>& fn) {
  std::vector<double> ms, cpu;
  for (size_t r = 0; r < reps; ++r) {
    double c0 = thread_cpu_ms();
    auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    cpu.push_back(thread_cpu_ms() - c0);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  size_t p99 = std::min(ms.size() - 1, (ms.size() * 99 + 99) / 100 - 1);
  return {ms[ms.size() / 2], ms[p99], cpu[cpu.size() / 2]};
}

void print(const char* what, size_t reps, Stats s, const size_t& total) {
  std::printf("%-40s reps=%-4zu median=%8.3f ms  p99=%8.3f ms  cpu median=%8.3f ms  total=%zu\n",
              what, reps, s.median_ms, s.p99_ms, s.cpu_median_ms, total);
}

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

Query parse(const char* text) {
  std::string error;
  std::optional<Query> q = hk::capture::parse_query(text, error);
  if (!q) {
    std::fprintf(stderr, "bad query %s: %s\n", text, error.c_str());
    std::exit(2);
  }
  return *q;
}

// Writes `n` capture files the way QueueStore lays them out (without fsync: a benchmark's setup).
void write_files(const std::filesystem::path& dir, size_t n) {
  std::filesystem::create_directories(dir / "tmp");
  std::mt19937 rng(7);
  for (size_t i = 0; i < n; ++i) {
    hk::queue::Envelope env;
    env.id = hk::queue::QueueStore::new_id();
    env.created = std::chrono::system_clock::now();
    env.from = "bounce@app.example";
    hk::queue::Recipient r;
    r.address = "user" + std::to_string(rng() % 20000) + "@example.net";
    r.original = r.address;
    env.rcpts.push_back(r);
    std::string body;
    for (int line = 0; line < 12; ++line) {
      body += words(rng, 12) + "\r\n";
    }
    std::string msg =
        "Received: from app (localhost [127.0.0.1]) by hikyaku\r\n"
        "From: Shop Robot <noreply@app.example>\r\nTo: <" +
        r.address + ">\r\nSubject: " + words(rng, 5) + " #" + std::to_string(i) +
        "\r\nMessage-ID: <msg" + std::to_string(i) +
        "@app.example>\r\nDate: Mon, 07 Dec 2026 05:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
        body;
    std::string file = hk::queue::encode_header(env) + msg;
    std::filesystem::path p = dir / (env.id + ".msg");
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size())) {
      std::perror(p.c_str());
      std::exit(1);
    }
    ::close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 100000;
  std::string startup_dir;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--messages" && i + 1 < argc) {
      n = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--startup" && i + 1 < argc) {
      startup_dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: hk-capture-index-bench [--messages N] [--startup DIR]\n");
      return 2;
    }
  }

  std::mt19937 rng(42);
  std::vector<std::string> ids;
  long rss0 = rss_kib();
  Index index;
  auto fill0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(hk::queue::QueueStore::new_id());
    index.insert(
        hk::capture::make_entry(std::make_shared<const Summary>(synthetic(rng, i, ids.back()))));
  }
  double fill_ms = std::chrono::duration<double, std::milli>(Clock::now() - fill0).count();
  long rss1 = rss_kib();
  std::printf(
      "index: %zu messages filled in %.0f ms; memory %.0f bytes/message (estimated), "
      "RSS +%ld KiB = %.0f bytes/message (includes the IDs vector)\n",
      index.size(), fill_ms, static_cast<double>(index.memory_bytes()) / double(n), rss1 - rss0,
      double(rss1 - rss0) * 1024.0 / double(n));

  size_t total = 0;
  // The stats first, then the total they left (argument order is unspecified).
  Stats st = measure(500, [&] { index.list(0, 50, total); });
  print("list(0, 50)", 500, st, total);
  st = measure(500, [&] { index.list(n / 2, 50, total); });
  print("list(n/2, 50)", 500, st, total);
  const char* searches[] = {"password",
                            "subject:\"reset your\"",
                            "to:user1234@example.net",
                            "from:\"émile\"",
                            "zebra-not-there",
                            "-from:robot is:unread has:attachment",
                            "message-id:msg99999@app.example",
                            "welcome -password -reset"};
  for (const char* text : searches) {
    Query q = parse(text);
    std::string label = std::string("search(") + text + ", 0, 50)";
    st = measure(50, [&] { index.search(q, 0, 50, total); });
    print(label.c_str(), 50, st, total);
  }
  Query missing = parse("zebra-not-there");
  print("newest_match(miss): wait's first look", 50,
        measure(50, [&] { index.newest_match(missing, {}); }), 0);
  std::mt19937 pick(1);
  print("find(random id)", 2000, measure(2000, [&] { index.find(ids[pick() % ids.size()]); }), 1);

  if (!startup_dir.empty()) {
    std::filesystem::path dir = std::filesystem::path(startup_dir) / "capture";
    if (!std::filesystem::exists(dir)) {
      auto w0 = Clock::now();
      write_files(dir, n);
      std::printf("startup: wrote %zu files in %.0f ms\n", n,
                  std::chrono::duration<double, std::milli>(Clock::now() - w0).count());
    }
    boost::asio::io_context io;
    hk::queue::QueueStore queue(std::filesystem::path(startup_dir) / "queue");
    long before = rss_kib();
    double cpu0 = process_cpu_ms();
    auto t0 = Clock::now();
    hk::capture::CaptureStore store(io.get_executor(), dir, {.max_messages = 0}, queue, nullptr);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf(
        "startup: CaptureStore indexed %zu messages (skipped %zu) in %.0f ms (CPU %.0f ms over "
        "all threads); RSS +%ld KiB\n",
        store.load_stats().loaded, store.load_stats().skipped, ms, process_cpu_ms() - cpu0,
        rss_kib() - before);
  }
  return 0;
}
