// Helpers for the live Resolver tests: Options naming one loopback server, and running one
// awaitable on an io_context with a bound on time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "lib/dns/resolver.hpp"

namespace hk::dns::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline Resolver::Options options(const std::string& server,
                                 std::chrono::milliseconds timeout = 2000ms, int attempts = 1) {
  Resolver::Options o;
  o.servers = {server};
  o.timeout = timeout;
  o.attempts = attempts;
  return o;
}

// Runs one awaitable on `io` to completion, bounded by `limit`; nullopt if it did not finish.
template <class T>
std::optional<T> run(asio::io_context& io, asio::awaitable<T> aw,
                     std::chrono::milliseconds limit = 10s) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(aw), [&result, &io](std::exception_ptr e, T value) {
    if (!e) {
      result = std::move(value);
    }
    io.stop();
  });
  io.restart();
  io.run_for(limit);
  return result;
}

// Lets the io_context run for `d`, so that late c-ares callbacks and aborted waits get through.
inline void drain(asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

}  // namespace hk::dns::test
