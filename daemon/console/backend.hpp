// What the console needs from the running daemon besides the capture store: the queue, the
// delivery log, and the health of listeners, certificates, DKIM keys, relays and DNS. The Server
// implements it (daemon/server/console_backend.cpp); the console only renders. Every member runs
// on the daemon's I/O thread and must not block it (offload disk and DNS work).
//
// The JSON shapes are documented in docs/api.md ("hikyaku's own endpoints").
//
// OWNER: the console-operations engineer. Others code against this header and must not change
// it; the owner may add to it (keep what is here, with these meanings).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>
#include <system_error>

namespace hk::console {

class Backend {
 public:
  virtual ~Backend() = default;

  // The queue: {"total":N,"messages":[{"ID","Created","From","Size","Recipients":[{"Address",
  // "State":"pending|delivered|failed","Attempts","LastReply","NextAttempt"}]}]}, oldest first.
  virtual boost::asio::awaitable<std::string> queue_json(size_t offset, size_t limit) = 0;
  // Retry now ("" = every queued message); false for an unknown ID.
  virtual bool retry(const std::string& queue_id) = 0;
  // Removes a queued message (no DSN); an error for an unknown ID or one being delivered now.
  virtual boost::asio::awaitable<std::error_code> remove(const std::string& queue_id) = 0;

  // The last delivery events, newest first, only those of `queue_id` when it is not empty:
  // {"events":[{"Time","ID","Recipient","Via","Result","Reply"}]}.
  virtual std::string delivery_log_json(const std::string& queue_id, size_t limit) = 0;

  // Listeners, certificates with expiry, DKIM keys, relays, reload errors: the control socket's
  // status reply (daemon/server/status.hpp) plus the console's own addresses.
  // {"Status": <the status reply>, "Console": ["addr:port"], "Domains": [the local domains],
  // "DkimKeys": [{"Domain","Selector","Algorithm"}], "Relays": [{"Relay" (0-based),"Host","Port",
  // "Tls","Username","Domains"}]}.
  virtual std::string health_json() = 0;
  // How many [[relay]] sections the configuration in force has (relay numbers run below it).
  virtual size_t relay_count() { return 0; }
  // test-relay for relay number `relay` (0-based, as in hikyaku.toml), sending a test message to
  // `send_to` when it is not empty: {"Relay","Steps":[{"Step","Ok","Detail"}],"Ok"}; with
  // "Host", "Port", and "Error" (the first failed step) when not Ok.
  virtual boost::asio::awaitable<std::string> relay_test_json(size_t relay,
                                                              std::string send_to) = 0;
  // check-dns for a local domain: {"Domain","Rows":[{"What","Status","Detail"}],"Ok"}.
  virtual boost::asio::awaitable<std::string> check_dns_json(std::string domain) = 0;
};

}  // namespace hk::console
