// hk::dns errors: the c-ares status codes that a lookup can end with, as an error_category, and
// which of them are permanent for mail delivery.
#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace hk::dns {

enum class Error {
  NxDomain = 1,  // the name does not exist (RCODE 3, RFC 1035 §4.1.1)
  NoData,        // the name exists but has no record of that type (RFC 2308 §2.2)
  ServFail,      // the server failed (RCODE 2)
  Timeout,       // no server answered in time
  Refused,       // the server refused the query (RCODE 5)
  Unreachable,   // every server refused the connection (ICMP port unreachable, TCP reset)
  BadResponse,   // the answer could not be parsed, or the server reported a format error
  BadName,       // the name cannot be put in a query (too long, empty label, NUL byte)
  Cancelled,     // cancelled by the caller, cancel_all() or the Resolver's destruction
  Failed,        // anything else c-ares reports (out of memory, not implemented, ...)
};

// The category's name is "hk::dns::error".
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// Maps a c-ares status (an ARES_* code other than ARES_SUCCESS) to an Error.
Error error_from_ares(int status) noexcept;

// True when retrying cannot help: the domain does not exist or the name is malformed. Every other
// failure (SERVFAIL, timeout, refusal, a broken answer) may be over on the next try.
bool is_permanent(const boost::system::error_code& ec) noexcept;

}  // namespace hk::dns

template <>
struct boost::system::is_error_code_enum<hk::dns::Error> : std::true_type {};
