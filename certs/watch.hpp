// watch(): the coroutine that polls the certificate files and reloads them after an ACME
// renewal. Polling stat(2) survives files replaced in place and swapped symlinks alike.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>

#include "certs/cert_store.hpp"

namespace hk::certs {

// Every `period`, calls store.reload_if_changed() and hands the result to `on_change` when it
// reloaded or failed (the caller logs). Runs until cancelled; `store` must outlive it.
boost::asio::awaitable<void> watch(CertStore& store, std::chrono::seconds period,
                                   std::function<void(const ReloadResult&)> on_change);

}  // namespace hk::certs
