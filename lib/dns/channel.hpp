// Channel: one c-ares channel driven by the Asio event loop. Each socket c-ares opens is watched
// through a stream_descriptor (released, never closed: c-ares owns the fd) and one steady_timer
// follows ares_timeout(). Internal to hk_dns; Resolver is the interface.
#pragma once

#include <ares.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "lib/dns/resolver.hpp"

namespace hk::dns::detail {

// Handed to c-ares as void*, so it is neither copied nor moved. Shared with the socket and timer
// handlers so that a handler already queued when the Resolver goes away finds it still alive.
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  // Throws std::runtime_error when c-ares cannot start or a server is malformed.
  static std::shared_ptr<Channel> create(boost::asio::any_io_executor ex,
                                         const Resolver::Options& opts);

  explicit Channel(boost::asio::any_io_executor ex);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  Channel(Channel&&) = delete;
  Channel& operator=(Channel&&) = delete;

  // Sends a query for `name` (class IN). c-ares calls `callback(arg, ...)` exactly once, possibly
  // before query() returns; after shutdown() it is called at once with ARES_EDESTRUCTION.
  void query(const std::string& name, RecordType type, ares_callback callback, void* arg) noexcept;
  // Ends every pending query with ARES_ECANCELLED.
  void cancel_all() noexcept;
  // Ends every pending query with ARES_EDESTRUCTION and closes the channel.
  void shutdown() noexcept;

  const boost::asio::any_io_executor& executor() const { return ex_; }

 private:
  struct Watch {
    explicit Watch(const boost::asio::any_io_executor& ex) : desc(ex) {}
    boost::asio::posix::stream_descriptor desc;
    std::uint64_t generation = 0;  // tells a reused fd number from the socket it replaced
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
  };

  void init(const Resolver::Options& opts);
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  void update_watch(ares_socket_t fd, bool readable, bool writable);
  void arm(ares_socket_t fd, Watch& w);
  Watch* find(ares_socket_t fd, std::uint64_t generation);
  void on_ready(ares_socket_t fd, std::uint64_t generation, bool read,
                const boost::system::error_code& ec) noexcept;
  void reschedule_timer() noexcept;
  void start_timer();
  void on_timer(std::uint64_t generation) noexcept;

  boost::asio::any_io_executor ex_;
  ares_channel channel_ = nullptr;
  std::unordered_map<ares_socket_t, std::unique_ptr<Watch>> watches_;
  std::uint64_t next_generation_ = 0;
  boost::asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  bool timer_armed_ = false;
};

}  // namespace hk::dns::detail
