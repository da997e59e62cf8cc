// ClientErrc: why an outgoing SMTP session could not be set up when the network itself did not
// fail (those come back as Asio's error codes), as an error_code category.
#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace hk::delivery {

enum class ClientErrc {
  Rejected = 1,          // the server answered the greeting, EHLO/HELO or RSET negatively
  ProtocolError,         // not SMTP: a malformed reply, or data after the STARTTLS reply
  TlsUnavailable,        // TLS required, but STARTTLS is not offered or was refused
  TlsFailed,             // the TLS handshake failed
  TlsUnverified,         // TLS required, but the certificate does not verify
  AuthUnavailable,       // credentials given, but no mechanism we speak is offered
  AuthRefusedPlaintext,  // credentials given, but the connection is not encrypted
  AuthFailed,            // the server refused the credentials
  NotConnected,          // send() before a successful connect(), or after the connection died
};

const boost::system::error_category& client_category() noexcept;

inline boost::system::error_code make_error_code(ClientErrc e) {
  return {static_cast<int>(e), client_category()};
}

}  // namespace hk::delivery

template <>
struct boost::system::is_error_code_enum<hk::delivery::ClientErrc> : std::true_type {};
