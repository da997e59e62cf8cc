// probe(): what `hikyaku-util test-relay` runs against a smart host, step by step: the same
// resolution (the configured DNS servers) and the same client the daemon delivers with.
#include <boost/asio/ip/tcp.hpp>
#include <utility>

#include "lib/smtp_client/smtp_client.hpp"

namespace hk::delivery {

namespace asio = boost::asio;

namespace {

// The "send" step: the reply to the final dot when every recipient was accepted (the provider's
// queue id is usually in its text), else the first reply that refused one.
ProbeStep send_step(const TransactionResult& result) {
  ProbeStep step{"send", !result.rcpts.empty(), ""};
  for (const queue::DeliveryResult& r : result.rcpts) {
    if (r.status != queue::DeliveryResult::Status::Delivered) {
      return {"send", false, r.line()};
    }
    step.detail = r.line();
  }
  return step;
}

}  // namespace

asio::awaitable<std::vector<ProbeStep>> probe(asio::any_io_executor ex, ClientOptions opts,
                                              dns::Lookup& dns, dns::AddressChoice choice,
                                              std::string host, uint16_t port,
                                              std::optional<ProbeMessage> message) {
  std::vector<ProbeStep> steps;
  if (opts.tls_name.empty()) {
    opts.tls_name = host;
  }
  dns::HostAddresses found = co_await dns::host_addresses(dns, host, choice);
  if (found.addrs.empty()) {
    steps.push_back({"resolve", false, host + ": " + found.error});
    co_return steps;
  }
  std::string addresses;
  for (const auto& addr : found.addrs) {
    addresses += (addresses.empty() ? "" : " ") + addr.to_string();
  }
  steps.push_back({"resolve", true, host + " -> " + addresses});
  for (const auto& addr : found.addrs) {
    SmtpClient client(ex, opts);
    boost::system::error_code cec = co_await client.connect(asio::ip::tcp::endpoint(addr, port));
    std::optional<ProbeStep> sent;
    if (!cec && message) {
      TransactionResult result =
          co_await client.send(message->from, message->rcpts, message->data, false, false);
      sent = send_step(result);
    }
    if (!cec) {
      co_await client.quit();
    }
    const std::vector<ProbeStep>& seen = client.steps();
    steps.insert(steps.end(), seen.begin(), seen.end());
    if (sent) {
      // The quit step, when there is one, comes after the message.
      const bool quit_last = !steps.empty() && steps.back().name == "quit";
      steps.insert(quit_last ? steps.end() - 1 : steps.end(), *sent);
    }
    // Only a failed TCP connect moves on to the next address; anything later is the answer.
    if (!cec || seen.size() > 1) {
      break;
    }
  }
  co_return steps;
}

}  // namespace hk::delivery
