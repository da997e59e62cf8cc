// SaslExchange: the server side of one AUTH command (RFC 4954 §4) for the PLAIN (RFC 4616) and
// LOGIN mechanisms, as a state machine: fed the AUTH argument and then each continuation line, it
// says which 334 challenge to send next or how the exchange ended. Pure: no I/O, no passwords.
// SECURITY: everything it reads comes from a client that has not authenticated yet; malformed
// input ends the exchange with a reply, never with an exception.
#pragma once

#include <string>
#include <string_view>

#include "lib/smtp/reply.hpp"

namespace hk::smtp {

struct SaslStep {
  enum class Kind {
    Challenge,    // send `reply` (a 334) and feed the client's next line to respond()
    Credentials,  // check `username` and `password`; the exchange is over
    Cancelled,    // the client answered "*" (RFC 4954 §4): send `reply`, the session goes on
    Aborted,      // no usable answer to a challenge: send `reply` and close the connection
    Malformed,    // the answer was not valid base64 or PLAIN message: a protocol error
    Unsupported,  // a mechanism we do not offer (RFC 4954 §6: 504): a protocol error
  };
  Kind kind = Kind::Aborted;
  Reply reply;  // what to send, for every kind but Credentials
  std::string username;
  std::string password;
};

class SaslExchange {
 public:
  // `arg` is the AUTH command's argument: mechanism [SP initial-response] (RFC 4954 §4).
  SaslStep start(std::string_view arg);
  // The client's line answering the last challenge, without CRLF.
  SaslStep respond(std::string_view line);
  // The answer to the last challenge never came (connection lost) or was too long to be one.
  SaslStep abort();

 private:
  enum class State { Idle, PlainResponse, LoginUsername, LoginPassword, Done };

  SaslStep plain(std::string_view response);
  SaslStep login_username(std::string_view response);
  SaslStep login_password(std::string_view response);

  State state_ = State::Idle;
  std::string username64_;  // LOGIN: kept in base64 until the password has arrived
};

}  // namespace hk::smtp
