// Benchmark (not a test): N durable puts of 1 KiB from C concurrent coroutines on one I/O
// thread, to measure the group commit. Prints msgs/s and batch sizes.
// Usage: queue_put_bench [DIR (default: a new folder in /var/tmp)] [N=2000] [C=1,10,50]
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/queue/queue_store.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using hk::queue::Envelope;
using hk::queue::QueueStore;

namespace {

asio::awaitable<void> putter(QueueStore& store, int& remaining, int& failed,
                             const std::string& message) {
  while (remaining > 0) {
    --remaining;
    Envelope env;
    env.id = QueueStore::new_id();
    env.created = std::chrono::system_clock::now();
    env.from = "bench@example.org";
    hk::queue::Recipient r;
    r.address = "rcpt@example.net";
    r.original = r.address;
    r.local = true;
    env.rcpts.push_back(r);
    if (std::error_code ec = co_await store.put(env, message)) {
      ++failed;
    }
  }
}

void run(const fs::path& dir, int n, int c) {
  fs::remove_all(dir / "queue");
  QueueStore store(dir / "queue");
  asio::io_context io;
  std::string message(1024, 'x');
  int remaining = n;
  int failed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < c; ++i) {
    asio::co_spawn(io, putter(store, remaining, failed, message), asio::detached);
  }
  io.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  hk::queue::PutStats st = store.put_stats();
  std::printf(
      "C=%-3d N=%d  %8.0f msgs/s  %6.3f s  batches=%llu avg_batch=%.1f max_batch=%zu "
      "failed=%d listed=%zu\n",
      c, n, n / secs, secs, static_cast<unsigned long long>(st.batches),
      st.batches ? static_cast<double>(st.puts) / static_cast<double>(st.batches) : 0.0,
      st.max_batch, failed, store.list().size());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir;
  bool own_dir = false;
  if (argc > 1) {
    dir = argv[1];
    fs::create_directories(dir);
  } else {
    std::string tmpl = "/var/tmp/hk-queue-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
    own_dir = true;
  }
  int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::vector<int> cs;
  std::stringstream list(argc > 3 ? argv[3] : "1,10,50");
  for (std::string item; std::getline(list, item, ',');) {
    cs.push_back(std::atoi(item.c_str()));
  }
  for (int c : cs) {
    run(dir, n, c);
  }
  fs::remove_all(dir / "queue");
  if (own_dir) {
    fs::remove_all(dir);
  }
  return 0;
}
