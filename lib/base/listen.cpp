// open_listener: open, options, bind, listen.
#include "lib/base/listen.hpp"

#include <boost/asio/ip/v6_only.hpp>

namespace hk::base {

namespace asio = boost::asio;
using asio::ip::tcp;

boost::system::error_code open_listener(tcp::acceptor& acceptor, const tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (ec) {
    return ec;
  }
  // Failing to set either option is not fatal: the bind below says whether the port is usable.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ep.address().is_v6()) {
    acceptor.set_option(asio::ip::v6_only(true), ec);
  }
  ec = {};
  acceptor.bind(ep, ec);
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  return ec;
}

}  // namespace hk::base
