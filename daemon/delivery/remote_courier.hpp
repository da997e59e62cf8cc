// RemoteCourier: delivers queued mail for remote recipients — directly to each domain's MX hosts
// (RFC 5321 §5.1), or through the configured smart hosts ([[relay]], tried in order). One SMTP
// transaction per destination domain carries all of that domain's recipients; sessions are kept
// open between messages in a ConnectionCache.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon/delivery/connection_cache.hpp"
#include "daemon/delivery/destinations.hpp"
#include "daemon/delivery/mta_sts.hpp"
#include "daemon/delivery/tls_policy.hpp"
#include "daemon/queue/courier.hpp"
#include "daemon/queue/delivery_metrics.hpp"
#include "lib/base/clock.hpp"
#include "lib/config/config.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "lib/tls_memory/tls_memory.hpp"

namespace hk::dns {
class Lookup;
}

namespace hk::delivery {

struct RemoteOptions {
  std::string hostname;               // our name, for EHLO
  std::vector<config::Relay> relays;  // empty: everything goes by MX
  uint16_t mx_port = 25;              // RFC 5321 §4.5.4.1; other ports only for tests
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};
  std::chrono::seconds data_timeout{600};
  // Connection reuse, as Postfix's connection cache: a session still healthy after a transaction
  // is parked for the next message to the same address with the same TLS and AUTH settings.
  // Parked longer than reuse_idle (5 s), it gets a QUIT: long enough for a queue run's next
  // message, short of the minutes a server may wait (RFC 5321 §4.5.3.2.7) and would rather use
  // for others. At most reuse_max_transactions (100) transactions and reuse_lifetime (300 s) per
  // connection, so that a server's changed configuration or certificate is noticed and no
  // server is held forever; at most reuse_max_parked (64) parked in all, bounding sockets.
  std::chrono::seconds reuse_idle{5};
  unsigned reuse_max_transactions = 100;
  std::chrono::seconds reuse_lifetime{300};
  std::size_t reuse_max_parked = 64;
  // MTA-STS (RFC 8461) for MX delivery, never for smart hosts: policies are looked up through
  // `dns` and kept in memory and under mta_sts_dir (empty: memory only). Off by default here so
  // that a courier built without a config does no extra lookups; the daemon sets it from
  // [delivery] mta_sts.
  bool mta_sts = false;
  std::filesystem::path mta_sts_dir;
  uint16_t mta_sts_port = 443;  // other ports only for tests
  std::chrono::seconds mta_sts_timeout{60};
  const queue::DeliveryMetrics* metrics = nullptr;  // when given, every transaction is counted
  // DANE (RFC 7672) for MX delivery: TLSA records validated by the resolver (the AD bit) make
  // TLS mandatory and authenticate the MX host; the daemon sets it from [delivery] dane.
  bool dane = false;
  // The per-domain TLS memory (docs/tls-delivery.md): data_dir/domaininfo; empty: none.
  std::filesystem::path tls_memory_dir;
  // How we look to a receiver ([delivery] in hikyaku.toml; docs/delivery.md), for MX hosts and
  // smart hosts alike: the address families used and which goes first, the local address to send
  // from per family, and the EHLO name (empty: hostname).
  config::IpVersion ip_version = config::IpVersion::Any;
  config::IpPrefer prefer = config::IpPrefer::V4;
  std::optional<boost::asio::ip::address> source_v4, source_v6;
  std::string helo_name;
  // Traffic shaping and back-off per destination; the back-offs are kept in destinations_file
  // (empty: memory only).
  ShapingLimits shaping;
  std::filesystem::path destinations_file;
  const DestinationMetrics* destination_metrics = nullptr;
};

// Why `source` cannot be sent from (not an address of this host), or empty when it can.
std::string source_address_problem(const boost::asio::ip::address& source);

class RemoteCourier final : public queue::Courier {
 public:
  // `tls` is the shared client context (system roots); built once by the caller.
  RemoteCourier(boost::asio::any_io_executor ex, dns::Lookup& dns, RemoteOptions opts,
                std::shared_ptr<boost::asio::ssl::context> tls);
  // Parked sessions are closed without QUIT.
  ~RemoteCourier() override;
  RemoteCourier(const RemoteCourier&) = delete;
  RemoteCourier& operator=(const RemoteCourier&) = delete;

  boost::asio::awaitable<std::vector<queue::DeliveryResult>> deliver(
      const queue::Envelope& env, const std::vector<const queue::Recipient*>& rcpts,
      const std::string& message) override;
  // Relay when a [[relay]] takes the recipient's domain, else MX (for the delivery log).
  queue::Route route(const queue::Recipient& rcpt) const override;

  // A reload: the smart hosts, MTA-STS, address families, source addresses, EHLO name and
  // shaping limits of `opts` apply to the transactions that start from now on; those in progress
  // finish with what they started with. A source address this host does not have is refused
  // (logged, the old ones kept).
  void reconfigure(const RemoteOptions& opts);
  // The daemon's stop, once its grace period is over: every connection in use is closed, so a
  // transaction in progress ends as a transient failure that the queue records, and no new one
  // starts. A final reply already read is never lost: its coroutine records it before anything
  // else runs (one I/O thread), and one not yet read counts as not given (RFC 5321 §6.1 lets the
  // remote deliver it anyway; the queue retries, at worst a duplicate, never a loss).
  void abandon();
  // Called with a destination's name when it frees a connection slot (Destinations::on_free); the
  // daemon hands it to Queue::destination_free. Empty: nothing is called.
  void set_on_slot_free(std::function<void(const std::string& destination)> f);

 private:
  // One destination domain: its recipients' addresses in, one result each out.
  boost::asio::awaitable<std::vector<queue::DeliveryResult>> by_mx(
      const queue::Envelope& env, const std::string& domain, const std::vector<std::string>& to,
      const std::string& message);
  boost::asio::awaitable<std::vector<queue::DeliveryResult>> by_relay(
      const queue::Envelope& env, const std::vector<std::string>& to, const std::string& message);
  // Tries each address in turn until one accepts a connection; nullopt and `error` when none did.
  // A parked session to the address whose turn it is goes first.
  // The MTA-STS policy in force for `domain`, logged with the message id; nullopt when none
  // applies (also when MTA-STS is off or the policy's mode is none).
  boost::asio::awaitable<std::optional<sts::CachedPolicy>> sts_policy(const queue::Envelope& env,
                                                                      const std::string& domain);
  boost::asio::awaitable<std::optional<TransactionResult>> try_addresses(
      ClientOptions opts, const std::vector<boost::asio::ip::address>& addrs, uint16_t port,
      const queue::Envelope& env, const std::vector<std::string>& to, const std::string& message,
      queue::DeliveryResult& error);
  // AAAA then A records of a host name (or the address itself for an IP literal).
  boost::asio::awaitable<std::vector<boost::asio::ip::address>> addresses(const std::string& host);
  const config::Relay* relay_for(const std::string& domain) const;
  // One destination's share of deliver(), shaped: admitted by destinations_ (or postponed), then
  // by_relay() or by_mx(), and its outcome told back (a throttling reply, or a success).
  boost::asio::awaitable<std::vector<queue::DeliveryResult>> shaped(
      const queue::Envelope& env, const std::string& domain, bool relay,
      const std::vector<std::string>& to, const std::string& message);
  // Notes a reply of the remote server for the shaped() call delivering env to `to`.
  void observe(const queue::Envelope& env, const std::vector<std::string>& to,
               const queue::DeliveryResult& r);
  // Our name, the timeouts and the shared TLS context; the certificate must match `tls_name`.
  ClientOptions client_options(const std::string& tls_name) const;
  // Logs the transaction `r` made on `c`, then parks `c` (or closes it).
  void finish(CachedClient c, const queue::Envelope& env, const TransactionResult& r);
  // hikyaku_delivery_tls_total: one per transaction that reached the remote server.
  void count_tls(bool relay, TlsResult tls, bool sts_enforced) const;

  boost::asio::any_io_executor ex_;
  dns::Lookup& dns_;
  RemoteOptions opts_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::mt19937 rng_;
  ConnectionCache cache_;
  base::SystemClock clock_;
  std::unique_ptr<MtaSts> sts_;  // made when MTA-STS is first on; kept while lookups may use it
  tls_memory::Store tls_memory_;
  // Replaced whole by reconfigure(); by_relay() holds the list it walks.
  std::shared_ptr<const std::vector<config::Relay>> relays_;
  std::unordered_set<SmtpClient*> active_;  // clients in connect() or send(), for abandon()
  bool abandoned_ = false;
  std::unique_ptr<Destinations> destinations_;
  // The shaped() calls in progress, by message id and destination domain, with the first
  // throttling reply that try_addresses() saw for them.
  std::unordered_map<std::string, std::optional<queue::DeliveryResult>*> watches_;
};

}  // namespace hk::delivery
