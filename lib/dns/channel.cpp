// Channel: c-ares sockets and timeouts on the Asio event loop. Every function c-ares calls is
// noexcept; c-ares may call them re-entrantly from ares_process_fd, ares_query, ares_cancel and
// ares_destroy, so handlers look their socket up again after each call into c-ares.
#include "lib/dns/channel.hpp"

#include <algorithm>
#include <climits>
#include <mutex>
#include <new>
#include <stdexcept>

#include "lib/base/log.hpp"

namespace hk::dns::detail {

namespace asio = boost::asio;

namespace {

constexpr int kClassIn = 1;  // RFC 1035 §3.2.4
// EDNS(0) UDP payload size advertised to servers: the DNS Flag Day 2020 value, which avoids IP
// fragmentation (RFC 9715 §3); larger answers come over TCP after a truncated reply.
constexpr int kEdnsPayloadSize = 1232;

// RFC 4035 §3.2.3 / RFC 6840 §5.7: a query with the AD bit asks a validating resolver to say, in
// the AD bit of its response, whether it validated the answer, without the RRSIGs that the DO bit
// would bring along. Byte 3 of the header holds RA, Z, AD, CD and RCODE (RFC 1035 §4.1.1).
constexpr std::size_t kFlagsByte = 3;
constexpr unsigned char kAdBit = 0x20;

// What ares_query adds to ares_send: the response code and answer count turned into a status
// (c-ares 1.18's ares_query.c does the same), so that every caller sees the statuses it knows.
struct Sent {
  ares_callback callback;
  void* arg;

  static void on_answer(void* data, int status, int timeouts, unsigned char* abuf,
                        int alen) noexcept {
    Sent* sent = static_cast<Sent*>(data);
    ares_callback callback = sent->callback;
    void* arg = sent->arg;
    delete sent;
    if (status == ARES_SUCCESS && abuf != nullptr && alen >= 12) {
      int rcode = abuf[3] & 0x0f;
      int ancount = (abuf[6] << 8) | abuf[7];
      switch (rcode) {
        case 0:  // NOERROR
          status = ancount > 0 ? ARES_SUCCESS : ARES_ENODATA;
          break;
        case 1:
          status = ARES_EFORMERR;
          break;
        case 2:
          status = ARES_ESERVFAIL;
          break;
        case 3:
          status = ARES_ENOTFOUND;
          break;
        case 4:
          status = ARES_ENOTIMP;
          break;
        case 5:
          status = ARES_EREFUSED;
          break;
        default:
          break;
      }
    } else if (status == ARES_SUCCESS) {
      status = ARES_EBADRESP;
    }
    callback(arg, status, timeouts, abuf, alen);
  }
};

void library_init() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares library init failed: ") + ares_strerror(status));
  }
}

}  // namespace

std::shared_ptr<Channel> Channel::create(asio::any_io_executor ex, const Resolver::Options& opts) {
  library_init();
  auto channel = std::make_shared<Channel>(std::move(ex));
  channel->init(opts);
  return channel;
}

Channel::Channel(asio::any_io_executor ex) : ex_(std::move(ex)), timer_(ex_) {}

Channel::~Channel() { shutdown(); }

void Channel::init(const Resolver::Options& opts) {
  ares_options o{};
  // NOCHECKRESP: hand SERVFAIL and REFUSED back as such instead of trying the next server and
  // reporting ECONNREFUSED. NOSEARCH: mail domains are absolute (ares_query never searches
  // anyway). EDNS: larger UDP answers, fewer TCP retries.
  o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS;
  o.timeout = static_cast<int>(
      std::clamp<std::chrono::milliseconds::rep>(opts.timeout.count(), 1, INT_MAX));
  o.tries = std::max(1, opts.attempts);
  o.sock_state_cb = &Channel::on_sock_state;
  o.sock_state_cb_data = this;
  o.ednspsz = kEdnsPayloadSize;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
             ARES_OPT_EDNSPSZ;
  int status = ares_init_options(&channel_, &o, mask);
  if (status != ARES_SUCCESS) {
    channel_ = nullptr;
    throw std::runtime_error(std::string("c-ares init failed: ") + ares_strerror(status));
  }
  if (!opts.servers.empty()) {
    std::string csv;
    for (const auto& s : opts.servers) {
      if (!csv.empty()) {
        csv += ',';
      }
      csv += s;
    }
    status = ares_set_servers_ports_csv(channel_, csv.c_str());
    if (status != ARES_SUCCESS) {
      throw std::runtime_error("bad DNS servers \"" + csv + "\": " + ares_strerror(status));
    }
  }
}

void Channel::query(const std::string& name, RecordType type, ares_callback callback,
                    void* arg) noexcept {
  if (channel_ == nullptr) {
    callback(arg, ARES_EDESTRUCTION, 0, nullptr, 0);
    return;
  }
  // ares_query cannot set the AD bit, so the query is built here and sent as ares_query would
  // send it (recursion desired, EDNS(0) with our payload size).
  unsigned char* buf = nullptr;
  int len = 0;
  int status = ares_create_query(name.c_str(), kClassIn, static_cast<int>(type), 0, 1, &buf, &len,
                                 kEdnsPayloadSize);
  if (status != ARES_SUCCESS || buf == nullptr || len <= static_cast<int>(kFlagsByte)) {
    if (buf != nullptr) {
      ares_free_string(buf);
    }
    callback(arg, status != ARES_SUCCESS ? status : ARES_EBADQUERY, 0, nullptr, 0);
    return;
  }
  buf[kFlagsByte] = static_cast<unsigned char>(buf[kFlagsByte] | kAdBit);
  Sent* sent = new (std::nothrow) Sent{callback, arg};
  if (sent == nullptr) {
    ares_free_string(buf);
    callback(arg, ARES_ENOMEM, 0, nullptr, 0);
    return;
  }
  ares_send(channel_, buf, len, &Sent::on_answer, sent);
  ares_free_string(buf);
  reschedule_timer();
}

void Channel::cancel_all() noexcept {
  if (channel_ != nullptr) {
    ares_cancel(channel_);
    reschedule_timer();
  }
}

void Channel::shutdown() noexcept {
  if (channel_ == nullptr) {
    return;
  }
  // Every descriptor is released while c-ares still holds its fd open, so none can ever close
  // or deregister an fd number that c-ares closed and the process reused. ares_destroy then
  // ends each query with ARES_EDESTRUCTION.
  for (auto& entry : watches_) {
    entry.second->desc.release();
  }
  watches_.clear();
  ares_channel channel = channel_;
  channel_ = nullptr;
  ares_destroy(channel);
  ++timer_generation_;
  timer_armed_ = false;
  try {
    timer_.cancel();
  } catch (const std::exception&) {
    // The wait, if any, then finds a newer generation and does nothing.
  }
}

void Channel::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  auto* self = static_cast<Channel*>(data);
  try {
    self->update_watch(fd, readable != 0, writable != 0);
  } catch (const std::exception& e) {
    // The query on this socket then ends by timeout rather than by an answer.
    base::log_error() << "dns: cannot watch socket fd=" << fd
                      << " error=" << base::log_quote(e.what());
  }
}

void Channel::update_watch(ares_socket_t fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    if (it != watches_.end()) {
      // release(), not close(): the fd belongs to c-ares. Pending waits end with
      // operation_aborted and find no watch of their generation.
      it->second->desc.release();
      watches_.erase(it);
    }
    return;
  }
  if (it == watches_.end()) {
    auto w = std::make_unique<Watch>(ex_);
    w->generation = ++next_generation_;
    w->desc.assign(fd);
    it = watches_.emplace(fd, std::move(w)).first;
  }
  Watch& w = *it->second;
  w.want_read = readable;
  w.want_write = writable;
  arm(fd, w);
}

void Channel::arm(ares_socket_t fd, Watch& w) {
  auto self = shared_from_this();
  if (w.want_read && !w.read_pending) {
    w.read_pending = true;
    w.desc.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self, fd, gen = w.generation](const boost::system::error_code& ec) {
                        self->on_ready(fd, gen, true, ec);
                      });
  }
  if (w.want_write && !w.write_pending) {
    w.write_pending = true;
    w.desc.async_wait(asio::posix::stream_descriptor::wait_write,
                      [self, fd, gen = w.generation](const boost::system::error_code& ec) {
                        self->on_ready(fd, gen, false, ec);
                      });
  }
}

Channel::Watch* Channel::find(ares_socket_t fd, std::uint64_t generation) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second->generation != generation) {
    return nullptr;
  }
  return it->second.get();
}

void Channel::on_ready(ares_socket_t fd, std::uint64_t generation, bool read,
                       const boost::system::error_code& ec) noexcept {
  Watch* w = find(fd, generation);
  if (w == nullptr) {
    return;  // c-ares closed this socket meanwhile
  }
  (read ? w->read_pending : w->write_pending) = false;
  if (channel_ == nullptr || ec == asio::error::operation_aborted) {
    return;
  }
  // On any other error, let c-ares look at the socket: its read or write then fails and c-ares
  // handles the broken connection itself.
  if (read ? w->want_read : w->want_write) {
    ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
  }
  // ares_process_fd may have closed this socket, or closed it and opened another on the same fd.
  if (Watch* again = find(fd, generation)) {
    try {
      arm(fd, *again);
    } catch (const std::exception& e) {
      base::log_error() << "dns: cannot watch socket fd=" << fd
                        << " error=" << base::log_quote(e.what());
    }
  }
  reschedule_timer();
}

void Channel::reschedule_timer() noexcept {
  if (channel_ == nullptr) {
    return;
  }
  try {
    start_timer();
  } catch (const std::exception& e) {
    // Only allocation can fail here; queries then end when their sockets next become ready.
    base::log_error() << "dns: cannot arm timer error=" << base::log_quote(e.what());
  }
}

void Channel::start_timer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    // No query pending: nothing to time out.
    if (timer_armed_) {
      ++timer_generation_;
      timer_armed_ = false;
      timer_.cancel();
    }
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(tv.tv_sec) +
                  std::chrono::microseconds(tv.tv_usec);
  if (timer_armed_ && timer_.expiry() <= deadline) {
    return;  // the earlier wake-up comes first; a wake-up with nothing due is harmless
  }
  timer_.expires_at(deadline);  // cancels the wait in progress, if any
  timer_armed_ = true;
  auto self = shared_from_this();
  timer_.async_wait(
      [self, gen = ++timer_generation_](const boost::system::error_code&) { self->on_timer(gen); });
}

void Channel::on_timer(std::uint64_t generation) noexcept {
  if (generation != timer_generation_ || channel_ == nullptr) {
    return;  // a cancelled or superseded wait
  }
  timer_armed_ = false;
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles due timeouts
  reschedule_timer();
}

}  // namespace hk::dns::detail
