// Drain: the daemon's stop as the SMTP sessions see it. On SIGTERM the Server starts the drain:
// a session waiting for its client's next command is woken at once to answer 421 4.3.2 and
// close; a session that is busy (DATA, AUTH, a lookup) finishes its command, is answered, and
// then gets the 421 instead of a next read. When the grace is over, cut() closes the sessions
// still running, so that each ends (its client keeps the message: no reply was given) before the
// I/O context stops.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>

#include "daemon/server/transport.hpp"
#include "lib/smtp/reply.hpp"

namespace hk::server {

class Drain {
 public:
  Drain() = default;
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  bool draining() const { return draining_; }
  // Wakes every session that waits for a command (its read ends with an error, the socket stays
  // open for the 421), and makes every later wait end at once.
  void start() {
    draining_ = true;
    for (Transport* t : waiting_) {
      t->cancel();
    }
    waiting_.clear();
  }

  // Closes every session still running: their reads and writes end with an error.
  void cut() {
    for (Transport* t : sessions_) {
      t->close();
    }
  }
  size_t sessions() const { return sessions_.size(); }

  // RFC 5321 §3.8: a server that must shut down answers 421 to the next command and closes.
  static smtp::Reply reply(const std::string& hostname) {
    return smtp::Reply(421, "4.3.2", hostname + " Service shutting down, try again later", true);
  }

  // A session's registration, from its start to its end. Without a Drain, it does nothing.
  class Running {
   public:
    Running(Drain* drain, Transport& transport) : drain_(drain), transport_(&transport) {
      if (drain_ != nullptr) {
        drain_->sessions_.insert(transport_);
      }
    }
    ~Running() {
      if (drain_ != nullptr) {
        drain_->sessions_.erase(transport_);
      }
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

   private:
    Drain* drain_;
    Transport* transport_;
  };

  // While one of these lives, `transport` is waiting for its client's next command and may be
  // woken by start(). Without a Drain (unit tests), it does nothing.
  class Waiting {
   public:
    Waiting(Drain* drain, Transport& transport) : drain_(drain), transport_(&transport) {
      if (drain_ != nullptr) {
        drain_->waiting_.insert(transport_);
      }
    }
    ~Waiting() {
      if (drain_ != nullptr) {
        drain_->waiting_.erase(transport_);
      }
    }
    Waiting(const Waiting&) = delete;
    Waiting& operator=(const Waiting&) = delete;

   private:
    Drain* drain_;
    Transport* transport_;
  };

 private:
  bool draining_ = false;
  std::unordered_set<Transport*> waiting_;
  std::unordered_set<Transport*> sessions_;
};

}  // namespace hk::server
