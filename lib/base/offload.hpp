// offload(): runs CPU-heavy or blocking work (scrypt, RSA signing, fsync) on a thread pool and
// resumes the calling coroutine on its own executor, so the I/O thread never stalls.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace hk::base {

namespace asio = boost::asio;

namespace detail {

// Runs the work on the pool, then completes the awaiting coroutine on its own executor.
struct OffloadInit {
  asio::thread_pool* pool;

  template <class Handler, class Fn>
  void operator()(Handler handler, Fn work) const {
    auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(*pool, [work = std::move(work), handler = std::move(handler),
                       guard = std::move(guard)]() mutable {
      auto result = work();
      auto home = guard.get_executor();
      asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
      guard.reset();
    });
  }
};

}  // namespace detail

// `fn` must not throw (it runs on a pool thread where nothing would catch it): wrap fallible work
// so that it returns its error as a value. Deliberately not a coroutine itself: GCC 12 mishandles
// coroutine parameters of lambda type, so the work object is handed straight to the initiation.
template <class Fn, class R = std::invoke_result_t<Fn>>
requires(!std::is_void_v<R>) asio::awaitable<R> offload(asio::thread_pool& pool, Fn fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(
      detail::OffloadInit{&pool}, asio::use_awaitable, std::move(fn));
}

}  // namespace hk::base
