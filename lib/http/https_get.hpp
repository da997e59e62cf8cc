// HttpsGet: the smallest HTTPS client that fetches an MTA-STS policy (RFC 8461 §3.3) — one GET
// over TLS with SNI and a verified certificate, HTTP/1.1 with "Connection: close" (Boost.Beast's
// parser: header limit, body limit, chunked transfer coding), only a 200 accepted, never a
// redirect, the body bounded and the whole fetch under one deadline.
// SECURITY: the server is untrusted: every read is bounded, the certificate must verify for the
// host name, and a response that is not a plain 200 with a body within the limit is a failure.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hk::delivery {

struct HttpsRequest {
  std::string host;  // for SNI, the Host header and certificate verification
  std::string path;  // "/.well-known/mta-sts.txt"
  uint16_t port = 443;
  // RFC 8461 §3.3 suggests a timeout of at least a minute; bound for the whole fetch (connect,
  // handshake and every read), across every address tried.
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(60);
  std::size_t max_body = 64 * 1024;  // §3.3: at most 64 KiB
};

struct HttpsResult {
  bool ok = false;           // a 200 with a body within the limit, media type as below
  std::string error;         // why not, for the log
  int status = 0;            // the HTTP status, 0 when none was read
  std::string content_type;  // the Content-Type field as sent
  std::string body;
};

// GET `req.path` from `req.host` at each of `addrs` in turn until one connects and completes
// its TLS handshake; that server's answer is the result. `ctx` supplies the roots (the system's,
// so SSL_CERT_FILE applies); verification is switched on for this connection whatever the
// context says. Only a response with media type text/plain counts as ok (§3.3).
boost::asio::awaitable<HttpsResult> https_get(boost::asio::any_io_executor ex,
                                              boost::asio::ssl::context& ctx,
                                              std::vector<boost::asio::ip::address> addrs,
                                              HttpsRequest req);

}  // namespace hk::delivery
