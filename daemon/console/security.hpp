// The console's security decisions as pure functions (no sockets, no clock): who may ask without
// TLS or password, which Host names are ours, when a state change needs the CSRF token, the
// Basic credentials, and the header fields every response carries. console_server.cpp applies
// them in this order: Host, then TLS and password for a remote client, then CSRF.
//
// SECURITY: these are the console's gate. A loopback client is the machine's own (a developer,
// a test suite, an SSH tunnel): it needs neither TLS nor password. Everyone else comes over the
// network, so the password must not travel in clear (TLS) and must be given (HTTP Basic, RFC
// 7617). Browsers add two attacks that a password does not stop: DNS rebinding (a page of
// evil.example whose name turns into 127.0.0.1 talks to the loopback console as "same origin";
// the Host it sends is still evil.example, hence the Host check) and cross-site requests (a page
// of another site POSTs to the console with the browser's credentials; browsers always send
// Origin or Sec-Fetch-Site on those, and a cross-site script cannot read the token, hence CSRF).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/console/http.hpp"

namespace hk::console {

// 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8 (::ffff:127.0.0.1 on a dual-stack socket).
bool is_loopback(const boost::asio::ip::address& address);

// The host of a Host field value (RFC 9110 §7.2: uri-host [":" port]), lower case, without the
// port; an IPv6 literal keeps its brackets ("[::1]"). Empty for a malformed value.
std::string host_of(std::string_view host_field);

// Whether `host_field` names this console. `allowed` are host names or address literals (IPv6
// with or without brackets), in any case; `local_address` is the address the client connected
// to (an address literal cannot be the result of DNS rebinding: the attack needs a name of the
// attacker's). localhost, 127.0.0.1 and [::1] are always allowed.
bool host_allowed(std::string_view host_field, const std::vector<std::string>& allowed,
                  std::string_view local_address);

// POST, PUT, PATCH, DELETE: the methods that change something.
bool is_state_change(http::verb method);
// A request that a browser sent: it has Origin, a Sec-Fetch-Site other than "none" (the user
// typed the address), or a Cookie. curl, scripts and test suites send none of them.
bool from_browser(const Request& req);
// The CSRF rule: a state change from a browser must carry X-CSRF-Token equal to `token`
// (compared in constant time); anything else passes.
bool csrf_ok(const Request& req, std::string_view token);

// RFC 7617 §2: "Basic" base64(user-id ":" password). nullopt for another scheme, bad base64 or no
// colon. The user-id may not contain a colon; the password may.
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> parse_basic(std::string_view authorization);

// What the console does with a request before routing it.
enum class Gate {
  Pass,          // serve it
  BadHost,       // 403: Host not ours (DNS rebinding)
  NeedTls,       // 403: a remote client over plain HTTP
  NoPassword,    // 403: a remote client, but no password is configured
  NeedPassword,  // check the Basic credentials (401 when missing or wrong)
};
// `password_configured`: `[console] password_file` names a readable hash.
Gate gate(bool host_ok, bool loopback, bool tls, bool password_configured);

// Adds the default security header fields (Content-Security-Policy, X-Content-Type-Options,
// Referrer-Policy, X-Frame-Options, Cache-Control) that the response does not set itself.
void add_security_headers(Response& res);
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// The user name the operator's password goes with.
inline constexpr std::string_view kConsoleUser = "admin";

}  // namespace hk::console
