// hikyaku-util test-relay: connects to every configured smart host as the daemon would (TLS,
// AUTH) and reports each step, like a mail client's "test connection" button.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>

#include "lib/config/config.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "util/args.hpp"
#include "util/command.hpp"

namespace hk::util {
namespace {

namespace asio = boost::asio;

delivery::TlsMode tls_mode(config::RelayTls t) {
  switch (t) {
    case config::RelayTls::StartTls:
      return delivery::TlsMode::Required;
    case config::RelayTls::Implicit:
      return delivery::TlsMode::Implicit;
    case config::RelayTls::None:
      return delivery::TlsMode::None;
  }
  return delivery::TlsMode::Required;
}

int test_relay(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"timeout"});
  args.expect(0, "no arguments");
  config::Config cfg;
  try {
    cfg = config::load_config(ctx.config_dir);
  } catch (const config::ConfigError& e) {
    std::cerr << "hikyaku-util: " << e.what() << "\n";
    return kExitFailure;
  }
  if (cfg.relays.empty()) {
    std::cout << "no [[relay]] configured: remote mail goes to each domain's MX\n";
    return kExitOk;
  }
  int seconds = 10;
  if (auto t = args.value("timeout")) {
    try {
      seconds = std::stoi(*t);
    } catch (const std::exception&) {
      throw UsageError("--timeout takes a number of seconds");
    }
  }
  bool all_ok = true;
  asio::io_context io;
  for (size_t i = 0; i < cfg.relays.size(); ++i) {
    const config::Relay& relay = cfg.relays[i];
    delivery::ClientOptions opts;
    opts.helo_name = cfg.hostname;
    opts.tls = tls_mode(relay.tls);
    opts.tls_name = relay.host;
    opts.username = relay.username;
    opts.password = relay.password;
    opts.connect_timeout = std::chrono::seconds(seconds);
    opts.command_timeout = std::chrono::seconds(seconds);
    std::cout << "relay " << i + 1 << ": " << relay.host << ":" << relay.port
              << " tls=" << config::to_string(relay.tls) << (relay.username.empty() ? "" : " user=")
              << relay.username << "\n";
    auto fut = asio::co_spawn(io, delivery::probe(io.get_executor(), opts, relay.host, relay.port),
                              asio::use_future);
    io.restart();
    io.run();
    std::vector<delivery::ProbeStep> steps = fut.get();
    bool ok = !steps.empty();
    for (const auto& s : steps) {
      std::cout << "  " << (s.ok ? "ok   " : "FAIL ") << s.name << (s.detail.empty() ? "" : ": ")
                << s.detail << "\n";
      ok = ok && s.ok;
    }
    std::cout << "  => " << (ok ? "works" : "does not work") << "\n";
    all_ok = all_ok && ok;
  }
  return all_ok ? kExitOk : kExitFailure;
}

constexpr Command kCommands[] = {
    {"test-relay", "[--timeout=SECONDS]",
     "Connect to each [[relay]] as the daemon would (STARTTLS or implicit TLS with a verified\n"
     "certificate, AUTH) and report every step; exit 0 when all of them work.",
     test_relay},
};

}  // namespace

std::span<const Command> relay_commands() { return kCommands; }

}  // namespace hk::util
