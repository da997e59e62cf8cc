// sink: the receiving end of hk-bench's delivery test — a minimal SMTP server on a loopback address
// that accepts every message and counts them — and a sampler of a process tree's peak memory.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "proc_tree.hpp"

namespace hk::bench {

using SteadyClock = std::chrono::steady_clock;

// Accepts SMTP (RFC 5321) on one address, with PIPELINING (RFC 2920) so that every server may
// talk to it as it would to a real MX, and answers 250 to every transaction without storing it.
// It runs on a thread of its own, so that counting does not wait behind the load generator.
class Sink {
 public:
  // Binds and listens at once (throws std::system_error when it cannot: startup only). `expect`
  // is the count whose arrival time is recorded.
  Sink(const boost::asio::ip::tcp::endpoint& at, int expect);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  void start();  // begins accepting, on the sink's thread
  void stop();   // closes everything and joins the thread; safe to call twice

  int received() const { return received_.load(); }
  // When the first connection was accepted, and when the expect-th message was received (after
  // its final dot, before the 250 goes out); time_point::max() while it has not happened.
  SteadyClock::time_point first_connect() const { return at(first_ns_); }
  SteadyClock::time_point nth_received() const { return at(nth_ns_); }

  // Called by the sessions (on the sink's thread).
  void note_connect();
  void note_message();

 private:
  static SteadyClock::time_point at(const std::atomic<long long>& ns);

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  int expect_;
  std::atomic<int> received_{0};
  std::atomic<long long> first_ns_{-1};
  std::atomic<long long> nth_ns_{-1};
  std::thread thread_;
};

// Reads the memory of a process tree every `period` on a thread of its own and keeps the highest
// PSS and RSS sums seen (each maximum on its own: they may come from different readings).
class MemorySampler {
 public:
  MemorySampler(std::vector<int> roots, std::chrono::milliseconds period);
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  Memory stop();  // stops sampling (after one last reading) and returns the peaks

 private:
  void sample();

  std::vector<int> roots_;
  std::chrono::milliseconds period_;
  std::atomic<bool> stop_{false};
  Memory peak_;
  std::thread thread_;
};

}  // namespace hk::bench
