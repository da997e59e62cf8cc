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

// `fn` must not throw (it runs on a pool thread where nothing would catch it) unless the caller
// is prepared for std::terminate: wrap fallible work so that it returns its error as a value.
template <class Fn, class R = std::invoke_result_t<Fn>>
  requires(!std::is_void_v<R>)
asio::awaitable<R> offload(asio::thread_pool& pool, Fn fn) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(
      [&pool](auto handler, Fn work) {
        auto home = asio::get_associated_executor(handler);
        auto guard = asio::make_work_guard(home);
        asio::post(pool, [work = std::move(work), handler = std::move(handler),
                          guard = std::move(guard)]() mutable {
          R result = work();
          auto ex = guard.get_executor();
          asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
          guard.reset();
        });
      },
      asio::use_awaitable, std::move(fn));
}

}  // namespace hk::base
