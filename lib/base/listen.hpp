// open_listener: a TCP acceptor opened, bound and listening, the one way every listener of the
// daemon (SMTP ports, metrics) starts.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace hk::base {

// Opens `acceptor` on `ep` with SO_REUSEADDR (a restart must not wait for TIME_WAIT) and, for an
// IPv6 address, IPV6_V6ONLY, so that "[::]" and "0.0.0.0" can both be listed; then binds and
// listens with the system's maximum backlog. Returns the first error.
boost::system::error_code open_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                        const boost::asio::ip::tcp::endpoint& ep);

}  // namespace hk::base
