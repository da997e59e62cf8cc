// hikyaku-util test-relay: connects to every configured smart host as the daemon would (its DNS
// servers, TLS, AUTH) and reports each step, like a mail client's "test connection" button; with
// --send-to it also sends one short test message through each and shows the relay's answer.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <iostream>
#include <optional>

#include "lib/config/config.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/relay_check/relay_check.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/dns_options.hpp"
#include "util/load_config.hpp"

namespace hk::util {
namespace {

namespace asio = boost::asio;

using relay_check::mailbox;

// The relays chosen by --relay: its 1-based number in the file, or its host name.
std::vector<size_t> chosen(const config::Config& cfg, const std::optional<std::string>& which) {
  std::vector<size_t> out;
  for (size_t i = 0; i < cfg.relays.size(); ++i) {
    if (!which || *which == std::to_string(i + 1) || *which == cfg.relays[i].host) {
      out.push_back(i);
    }
  }
  if (out.empty()) {
    throw UsageError("--relay " + *which + ": no such [[relay]] (give its number, 1 to " +
                     std::to_string(cfg.relays.size()) + ", or its host)");
  }
  return out;
}

int test_relay(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {"timeout", "relay", "send-to", "from"});
  args.expect(0, "no arguments");
  int seconds = 10;
  if (auto t = args.value("timeout")) {
    try {
      seconds = std::stoi(*t);
    } catch (const std::exception&) {
      throw UsageError("--timeout takes a number of seconds");
    }
    if (seconds < 1) {
      throw UsageError("--timeout takes a number of seconds");
    }
  }
  std::optional<std::string> send_to;
  if (auto v = args.value("send-to")) {
    send_to = mailbox(*v);
    if (!send_to) {
      throw UsageError("--send-to: not an address: " + *v);
    }
  }
  std::optional<std::string> from;
  if (auto v = args.value("from")) {
    from = mailbox(*v);
    if (!from) {
      throw UsageError("--from: not an address: " + *v);
    }
  }
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  if (cfg.relays.empty()) {
    std::cout << "no [[relay]] configured: remote mail goes to each domain's MX\n";
    return kExitOk;
  }
  const std::vector<size_t> relays = chosen(cfg, args.value("relay"));
  // The DKIM keys the daemon would sign with; a broken key file is the daemon's problem too, so
  // it is said and the message goes unsigned.
  std::optional<dkim::DkimKeyring> keyring;
  if (send_to) {
    try {
      keyring.emplace(cfg.domains_dir());
    } catch (const std::exception& e) {
      std::cout << "warn dkim: keys not loaded, test messages go unsigned: " << e.what() << "\n";
    }
  }
  std::shared_ptr<const dkim::Keys> keys = keyring ? keyring->current() : nullptr;

  asio::io_context io;
  // The same resolution as the daemon's smart-host delivery: the configured [dns] servers and
  // [delivery] ip_version / prefer.
  dns::Resolver resolver(io.get_executor(), resolver_options(cfg));
  const dns::AddressChoice choice{cfg.delivery.ip_version != config::IpVersion::V6,
                                  cfg.delivery.ip_version != config::IpVersion::V4,
                                  cfg.delivery.prefer == config::IpPrefer::V4};
  std::vector<std::string> failed;
  for (size_t i : relays) {
    const config::Relay& relay = cfg.relays[i];
    delivery::ClientOptions opts =
        relay_check::client_options(cfg, relay, std::chrono::seconds(seconds));
    std::cout << "relay " << i + 1 << ": " << relay.host << ":" << relay.port
              << " tls=" << config::to_string(relay.tls) << (relay.preset.empty() ? "" : " preset=")
              << relay.preset << (relay.username.empty() ? "" : " user=") << relay.username << "\n";
    std::optional<delivery::ProbeMessage> message;
    if (send_to) {
      const std::string sender = relay_check::test_sender(cfg, relay, from);
      std::string signed_with;
      std::vector<std::string> warnings;
      std::string data = relay_check::test_message(cfg, relay, i + 1, sender, *send_to, keys.get(),
                                                   signed_with, warnings);
      for (const std::string& e : warnings) {
        std::cout << "  warn dkim: " << e << "\n";
      }
      std::cout << "  test message from=<" << sender << "> to=<" << *send_to << "> dkim="
                << (signed_with.empty() ? "none (no key for the From domain)" : signed_with)
                << "\n";
      message = delivery::ProbeMessage{sender, {*send_to}, std::move(data)};
    }
    auto fut = asio::co_spawn(io,
                              delivery::probe(io.get_executor(), opts, resolver, choice, relay.host,
                                              relay.port, std::move(message)),
                              asio::use_future);
    io.restart();
    io.run();
    std::vector<delivery::ProbeStep> steps = fut.get();
    std::string why;
    const bool ok = relay_check::works(steps, why);
    std::string failed_so_far;
    for (const auto& s : steps) {
      if (!failed_so_far.empty() && s.name == "quit") {
        continue;  // the goodbye after a failure says nothing about the relay
      }
      std::cout << "  " << (s.ok ? "ok   " : "FAIL ") << s.name << (s.detail.empty() ? "" : ": ")
                << s.detail << "\n";
      if (!s.ok && failed_so_far.empty() && s.name != "quit") {
        failed_so_far = s.name;
      }
    }
    std::cout << "  => "
              << (ok ? (send_to ? "works, test message accepted" : "works")
                     : "does not work: " + why)
              << "\n";
    if (!ok) {
      failed.push_back("relay " + std::to_string(i + 1) + " (" + relay.host + ")");
    }
  }
  if (!failed.empty()) {
    std::string list;
    for (const std::string& f : failed) {
      list += (list.empty() ? "" : ", ") + f;
    }
    std::cerr << "hikyaku-util: test-relay: " << list << " failed\n";
  }
  return failed.empty() ? kExitOk : kExitFailure;
}

constexpr Command kCommands[] = {
    {"test-relay", "[--relay=N|HOST] [--send-to=ADDRESS [--from=ADDRESS]] [--timeout=SECONDS]",
     "Connect to each [[relay]] as the daemon would (its [dns] servers, STARTTLS or implicit TLS\n"
     "with a verified certificate, AUTH) and report every step. --relay tests one (its number in\n"
     "the file, from 1, or its host). --send-to also sends a short test message through each,\n"
     "from --from, else the relay's username when it is an address, else postmaster@hostname,\n"
     "DKIM-signed when the From domain has keys, and shows the relay's reply (its queue id).\n"
     "Exit 0 when every relay tested works (and took the message), 1 when one does not.",
     test_relay},
};

}  // namespace

std::span<const Command> relay_commands() { return kCommands; }

}  // namespace hk::util
