// The AUTH PLAIN / AUTH LOGIN exchange.
#include "lib/smtp/sasl.hpp"

#include <cctype>
#include <optional>
#include <utility>

#include "lib/base/base64.hpp"
#include "lib/smtp/auth.hpp"

namespace hk::smtp {
namespace {

// The LOGIN mechanism's prompts, base64 as every 334 text is (RFC 4954 §4). LOGIN has no RFC of
// its own (draft-murchison-sasl-login); these are the words every client expects.
constexpr std::string_view kUsernamePrompt = "VXNlcm5hbWU6";  // "Username:"
constexpr std::string_view kPasswordPrompt = "UGFzc3dvcmQ6";  // "Password:"

SaslStep challenge(std::string_view text) {
  SaslStep s;
  s.kind = SaslStep::Kind::Challenge;
  s.reply = Reply(334, "", std::string(text));
  return s;
}

SaslStep ended(SaslStep::Kind kind, Reply reply) {
  SaslStep s;
  s.kind = kind;
  s.reply = std::move(reply);
  return s;
}

// RFC 4954 §4: a client answering a challenge with "*" cancels the exchange, and the server
// rejects the AUTH command with 501.
SaslStep cancelled() {
  return ended(SaslStep::Kind::Cancelled, Reply(501, "5.0.0", "Authentication cancelled"));
}

SaslStep credentials(std::string username, std::string password) {
  SaslStep s;
  s.kind = SaslStep::Kind::Credentials;
  s.username = std::move(username);
  s.password = std::move(password);
  return s;
}

}  // namespace

SaslStep SaslExchange::start(std::string_view arg) {
  std::string_view mech_arg = arg.substr(0, arg.find(' '));
  std::string_view initial = arg.size() > mech_arg.size() ? arg.substr(mech_arg.size() + 1) : "";
  std::string mech(mech_arg);
  for (auto& c : mech) {
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));  // RFC 4954 §4: any case
  }
  if (mech == "PLAIN") {
    if (initial.empty()) {
      state_ = State::PlainResponse;
      return challenge("");  // RFC 4616 §2: the client sends its message after an empty one
    }
    return plain(initial);
  }
  if (mech == "LOGIN") {
    if (initial.empty()) {
      state_ = State::LoginUsername;
      return challenge(kUsernamePrompt);
    }
    return login_username(initial);
  }
  state_ = State::Done;
  return ended(SaslStep::Kind::Unsupported,
               Reply(504, "5.5.4", "Unrecognized authentication type"));  // RFC 4954 §6
}

SaslStep SaslExchange::respond(std::string_view line) {
  switch (state_) {
    case State::PlainResponse:
      return plain(line);
    case State::LoginUsername:
      return login_username(line);
    case State::LoginPassword:
      return login_password(line);
    case State::Idle:
    case State::Done:
      break;
  }
  // No challenge is outstanding: the caller broke the protocol, and the exchange ends.
  return abort();
}

SaslStep SaslExchange::abort() {
  state_ = State::Done;
  return ended(SaslStep::Kind::Aborted, Reply(501, "5.5.2", "Authentication aborted", true));
}

SaslStep SaslExchange::plain(std::string_view response) {
  state_ = State::Done;
  if (response == "*") {
    return cancelled();
  }
  // RFC 4954 §4: "=" stands for an empty response; an empty PLAIN message is then refused.
  std::optional<PlainCredentials> creds = decode_auth_plain(response == "=" ? "" : response);
  if (!creds) {
    return ended(SaslStep::Kind::Malformed, Reply(501, "5.5.2", "Malformed AUTH PLAIN response"));
  }
  return credentials(std::move(creds->authcid), std::move(creds->password));
}

SaslStep SaslExchange::login_username(std::string_view response) {
  if (response == "*") {
    state_ = State::Done;
    return cancelled();
  }
  // Decoded only once the password has arrived, so that a malformed name costs the client the
  // whole exchange, as a wrong password does.
  username64_ = std::string(response);
  state_ = State::LoginPassword;
  return challenge(kPasswordPrompt);
}

SaslStep SaslExchange::login_password(std::string_view response) {
  state_ = State::Done;
  if (response == "*") {
    return cancelled();
  }
  std::optional<std::string> username = base::base64_decode(username64_);
  std::optional<std::string> password = base::base64_decode(response);
  if (!username || !password) {
    return ended(SaslStep::Kind::Malformed, Reply(501, "5.5.2", "Malformed AUTH LOGIN response"));
  }
  return credentials(std::move(*username), std::move(*password));
}

}  // namespace hk::smtp
