// test-relay's core; see relay_check.hpp.
#include "lib/relay_check/relay_check.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "lib/base/date.hpp"
#include "lib/dkim/signer.hpp"
#include "lib/smtp/address.hpp"

namespace hk::relay_check {

namespace {

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

}  // namespace

delivery::ClientOptions client_options(const config::Config& cfg, const config::Relay& relay,
                                       std::chrono::seconds timeout) {
  delivery::ClientOptions opts;
  opts.helo_name = cfg.delivery.helo_name.empty() ? cfg.hostname : cfg.delivery.helo_name;
  opts.tls = tls_mode(relay.tls);
  opts.tls_name = relay.host;
  opts.username = relay.username;
  opts.password = relay.password;
  opts.connect_timeout = timeout;
  opts.command_timeout = timeout;
  opts.data_timeout = timeout;
  return opts;
}

std::optional<std::string> mailbox(const std::string& text) {
  smtp::PathResult p = smtp::parse_path("<" + text + ">", smtp::PathKind::Reverse);
  if (!p || p.value.is_null() || p.value.literal || p.value.utf8 || p.value.domain.empty()) {
    return std::nullopt;
  }
  return p.value.str();
}

// A relay that authenticates accounts (Gmail, Outlook, Yahoo, iCloud, Zoho, Fastmail; Mailgun's
// SMTP logins) accepts only the account's own address, or aliases verified there, as the sender,
// and its username is that address: take it. Otherwise (SendGrid's "apikey", SES's key id, no
// AUTH) postmaster@hostname, the address every mail host must have (RFC 5321 §4.5.1); --from
// names another, e.g. one of a domain verified at the provider.
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

// The header fields RFC 5322 §3.6 requires (Date, From) and those a receiver judges mail by
// (Message-ID, To, Subject), then DKIM signatures as the daemon adds them to mail submitted by
// our users: every key of the From domain (RFC 6376 §3.5), when it has keys.
std::string test_message(const config::Config& cfg, const config::Relay& relay, size_t number,
                         const std::string& from, const std::string& to, const dkim::Keys* keys,
                         std::string& signed_with, std::vector<std::string>& warnings) {
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
  std::string headers = dkim::sign_all(signer, m, it->second, warnings);
  for (const dkim::DkimKey& key : it->second) {
    signed_with += (signed_with.empty() ? "" : ", ") + ("d=" + key.domain + " s=" + key.selector);
  }
  return headers + m;
}

bool works(const std::vector<delivery::ProbeStep>& steps, std::string& why) {
  bool ok = !steps.empty();
  why.clear();
  for (const auto& s : steps) {
    if (!s.ok && why.empty() && s.name != "quit") {
      why = s.name + ": " + s.detail;
    }
    // A missing 221 after a good session is no fault of the relay's settings.
    ok = ok && (s.ok || s.name == "quit");
  }
  return ok;
}

}  // namespace hk::relay_check
