// hikyaku-util test-relay: connects to every configured smart host as the daemon would (its DNS
// servers, TLS, AUTH) and reports each step, like a mail client's "test connection" button; with
// --send-to it also sends one short test message through each and shows the relay's answer.
#include <openssl/rand.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <iostream>
#include <optional>

#include "lib/base/date.hpp"
#include "lib/config/config.hpp"
#include "lib/dkim/keyring.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/smtp/address.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/dns_options.hpp"
#include "util/load_config.hpp"

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

// An address as an envelope path takes it; nullopt when `text` is not one.
std::optional<std::string> mailbox(const std::string& text) {
  smtp::PathResult p = smtp::parse_path("<" + text + ">", smtp::PathKind::Reverse);
  if (!p || p.value.is_null() || p.value.literal || p.value.utf8 || p.value.domain.empty()) {
    return std::nullopt;
  }
  return p.value.str();
}

// The sender of the test message. A relay that authenticates accounts (Gmail, Outlook, Yahoo,
// iCloud, Zoho, Fastmail; Mailgun's SMTP logins) accepts only the account's own address, or
// aliases verified there, as the sender, and its username is that address: take it. Otherwise
// (SendGrid's "apikey", SES's key id, no AUTH) postmaster@hostname, the address every mail host
// must have (RFC 5321 §4.5.1); --from names another, e.g. one of a domain verified at the
// provider.
std::string test_sender(const config::Config& cfg, const config::Relay& relay,
                        const std::optional<std::string>& from) {
  if (from) {
    return *from;
  }
  if (std::optional<std::string> user = mailbox(relay.username)) {
    return *user;
  }
  return "postmaster@" + cfg.hostname;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    throw std::runtime_error("no random bytes from OpenSSL");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// The test message: the header fields RFC 5322 §3.6 requires (Date, From) and those a receiver
// judges mail by (Message-ID, To, Subject), then DKIM signatures as the daemon adds them to mail
// submitted by our users: every key of the From domain (RFC 6376 §3.5), when it has keys.
std::string test_message(const config::Config& cfg, const config::Relay& relay, size_t number,
                         const std::string& from, const std::string& to, const dkim::Keys* keys,
                         std::string& signed_with) {
  const std::string date = base::rfc5322_date(std::chrono::system_clock::now());
  std::string m = "Date: " + date + "\r\n";
  m += "From: <" + from + ">\r\n";
  m += "To: <" + to + ">\r\n";
  m += "Subject: hikyaku test-relay: " + relay.host + " (relay " + std::to_string(number) + ")\r\n";
  m += "Message-ID: <" + random_hex(12) + ".test-relay@" + cfg.hostname + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "This is a test message from `hikyaku-util test-relay` on " + cfg.hostname + ",\r\n";
  m += "sent through the smart host " + relay.host + ":" + std::to_string(relay.port) + " (relay " +
       std::to_string(number) + ") at " + date + ".\r\n";
  signed_with.clear();
  const std::string domain = from.substr(from.rfind('@') + 1);
  if (keys == nullptr || !keys->contains(domain)) {
    return m;
  }
  const auto it = keys->find(domain);
  dkim::DkimSigner signer;
  std::vector<std::string> errors;
  std::string headers = dkim::sign_all(signer, m, it->second, errors);
  for (const dkim::DkimKey& key : it->second) {
    signed_with += (signed_with.empty() ? "" : ", ") + ("d=" + key.domain + " s=" + key.selector);
  }
  for (const std::string& e : errors) {
    std::cout << "  warn dkim: " << e << "\n";
  }
  return headers + m;
}

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
    delivery::ClientOptions opts;
    opts.helo_name = cfg.delivery.helo_name.empty() ? cfg.hostname : cfg.delivery.helo_name;
    opts.tls = tls_mode(relay.tls);
    opts.tls_name = relay.host;
    opts.username = relay.username;
    opts.password = relay.password;
    opts.connect_timeout = std::chrono::seconds(seconds);
    opts.command_timeout = std::chrono::seconds(seconds);
    opts.data_timeout = std::chrono::seconds(seconds);
    std::cout << "relay " << i + 1 << ": " << relay.host << ":" << relay.port
              << " tls=" << config::to_string(relay.tls) << (relay.preset.empty() ? "" : " preset=")
              << relay.preset << (relay.username.empty() ? "" : " user=") << relay.username << "\n";
    std::optional<delivery::ProbeMessage> message;
    if (send_to) {
      const std::string sender = test_sender(cfg, relay, from);
      std::string signed_with;
      std::string data = test_message(cfg, relay, i + 1, sender, *send_to, keys.get(), signed_with);
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
    bool ok = !steps.empty();
    std::string why;
    for (const auto& s : steps) {
      if (!why.empty() && s.name == "quit") {
        continue;  // the goodbye after a failure says nothing about the relay
      }
      std::cout << "  " << (s.ok ? "ok   " : "FAIL ") << s.name << (s.detail.empty() ? "" : ": ")
                << s.detail << "\n";
      if (!s.ok && why.empty() && s.name != "quit") {
        why = s.name + ": " + s.detail;
      }
      // A missing 221 after a good session is no fault of the relay's settings.
      ok = ok && (s.ok || s.name == "quit");
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
