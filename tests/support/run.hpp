// Running one awaitable on a test's io_context to completion, with a bound on time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

namespace hk::test {

// Runs `aw` on `io` until it finishes or `limit` passes; nullopt on time-out or exception.
template <class T>
std::optional<T> run(boost::asio::io_context& io, boost::asio::awaitable<T> aw,
                     std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<T> result;
  boost::asio::co_spawn(io, std::move(aw), [&result, &io](std::exception_ptr e, T value) {
    if (!e) {
      result = std::move(value);
    }
    io.stop();
  });
  io.restart();
  io.run_for(limit);
  return result;
}

// Lets `io` run for `d`, so that late callbacks and aborted waits get through.
inline void drain(boost::asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

}  // namespace hk::test
