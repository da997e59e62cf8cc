// Resolver: the dns::Lookup that asks the network — MX, A, AAAA, TXT, PTR and TLSA through c-ares,
// driven by the Asio event loop (no blocking call, no thread per lookup). Queries are absolute: no
// search domain is ever appended, since mail domains are fully qualified (RFC 5321 §2.3.5).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lib/dns/answer.hpp"
#include "lib/dns/error.hpp"
#include "lib/dns/lookup.hpp"

namespace hk::dns {

namespace detail {
class Channel;
}

// Use one Resolver per io_context, from coroutines running on that io_context's thread. Awaiting
// a lookup supports per-operation cancellation (terminal, partial or total): the coroutine
// resumes at once with Error::Cancelled and the late answer from c-ares is dropped.
class Resolver final : public Lookup {
 public:
  struct Options {
    // "127.0.0.1:5353", "[::1]:53", "192.0.2.1" (port 53); empty: the servers of
    // /etc/resolv.conf.
    std::vector<std::string> servers;
    // How long to wait for one server to answer one try (c-ares grows it on later tries).
    std::chrono::milliseconds timeout{5000};
    // How many times each server is tried.
    int attempts = 3;
  };

  // Throws std::runtime_error when c-ares cannot start or a server is malformed.
  Resolver(boost::asio::any_io_executor ex, Options opts);
  // Pending lookups complete with Error::Cancelled.
  ~Resolver() override;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  Resolver(Resolver&&) = delete;
  Resolver& operator=(Resolver&&) = delete;

  boost::asio::awaitable<Answer<MxRecord>> mx(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address>> a(std::string name) override;
  boost::asio::awaitable<Answer<boost::asio::ip::address>> aaaa(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> txt(std::string name) override;
  boost::asio::awaitable<Answer<std::string>> ptr(boost::asio::ip::address addr) override;
  // c-ares 1.18 has no TLSA parser: the raw response goes through tlsa_records() (wire.hpp).
  boost::asio::awaitable<Answer<TlsaRecord>> tlsa(std::string name) override;

  // Completes every pending lookup with Error::Cancelled; for shutdown.
  void cancel_all();
  // A reload: lookups from now on use the servers, timeout and tries of `opts`. Lookups in flight
  // finish on the channel they started on, kept until they must have ended (kRetiredFor).
  // Throws std::runtime_error, keeping the current servers, when `opts` cannot be used.
  void reconfigure(const Options& opts);

  boost::asio::any_io_executor get_executor() const;

 private:
  struct Retired {
    std::shared_ptr<detail::Channel> channel;
    std::chrono::steady_clock::time_point until;
  };
  // Far beyond any lookup's end: c-ares gives up after attempts × servers tries of at most a
  // minute each (the config's bounds: timeout ≤ 60 s, attempts ≤ 10) in every realistic setup.
  static constexpr std::chrono::minutes kRetiredFor{15};

  std::shared_ptr<detail::Channel> channel_;
  std::vector<Retired> retired_;  // channels replaced by reconfigure(), kept for their lookups
};

}  // namespace hk::dns
