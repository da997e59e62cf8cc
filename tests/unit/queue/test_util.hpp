// Helpers for the queue tests: a private temporary folder and running a coroutine to completion.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace hk::queue::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hk-queue-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `aw` on `io` until it completes (or `limit` passes, which fails the test) and returns its
// value; an escaped exception is rethrown here.
template <class T>
T run_sync(boost::asio::io_context& io, boost::asio::awaitable<T> aw,
           std::chrono::seconds limit = std::chrono::seconds(20)) {
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    error = e;
    out = std::move(v);
  });
  io.restart();
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!out && !error && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(50));
    io.restart();
  }
  if (error) {
    std::rethrow_exception(error);
  }
  if (!out) {
    ADD_FAILURE() << "coroutine did not finish in time";
    return T{};
  }
  return std::move(*out);
}

// Adapts an awaitable<void> for run_sync.
inline boost::asio::awaitable<bool> done(boost::asio::awaitable<void> aw) {
  co_await std::move(aw);
  co_return true;
}

}  // namespace hk::queue::test
