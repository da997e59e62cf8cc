// probe(): what `hikyaku-util test-relay` runs against a smart host, step by step.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "lib/smtp_client/smtp_client.hpp"

namespace hk::delivery {

namespace asio = boost::asio;

asio::awaitable<std::vector<ProbeStep>> probe(asio::any_io_executor ex, ClientOptions opts,
                                              std::string host, uint16_t port) {
  std::vector<ProbeStep> steps;
  if (opts.tls_name.empty()) {
    opts.tls_name = host;
  }
  // The daemon resolves through its own DNS module; an interactive tool may use the system's.
  asio::ip::tcp::resolver resolver(ex);
  auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port),
                                                       asio::as_tuple(asio::use_awaitable));
  if (ec) {
    steps.push_back({"resolve", false, host + ": " + ec.message()});
    co_return steps;
  }
  std::string addresses;
  for (const auto& entry : results) {
    addresses += (addresses.empty() ? "" : " ") + entry.endpoint().address().to_string();
  }
  steps.push_back({"resolve", true, host + " -> " + addresses});
  for (const auto& entry : results) {
    SmtpClient client(ex, opts);
    boost::system::error_code cec = co_await client.connect(entry.endpoint());
    if (!cec) {
      co_await client.quit();
    }
    const std::vector<ProbeStep>& seen = client.steps();
    steps.insert(steps.end(), seen.begin(), seen.end());
    // Only a failed TCP connect moves on to the next address; anything later is the answer.
    if (!cec || seen.size() > 1) {
      break;
    }
  }
  co_return steps;
}

}  // namespace hk::delivery
