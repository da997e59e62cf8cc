// watch(): periodic reload of the certificate folders.
#include "certs/watch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hk::certs {

namespace asio = boost::asio;

asio::awaitable<void> watch(CertStore& store, std::chrono::seconds period,
                            std::function<void(const ReloadResult&)> on_change) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return;  // cancelled: the server is shutting down
    }
    ReloadResult result = store.reload_if_changed();
    if ((result.changed || !result.error.empty()) && on_change) {
      on_change(result);
    }
  }
}

}  // namespace hk::certs
