// The daemon's configuration: CONFIG_DIR/hikyaku.toml read into plain structs, with defaults, and
// every error naming file:line:key. Also the effective configuration printed back as TOML.
// The keys themselves are listed once, in lib/config/keys.hpp; the defaults are written only here,
// as the member initialisers of Config.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/log.hpp"
#include "lib/base/tls_version.hpp"
#include "lib/config/values.hpp"

namespace hk::config {

// what() is "FILE:LINE: KEY: message", e.g.
// "/etc/hikyaku/hikyaku.toml:12: limits.max_recipients: must be between 1 and 10000, got 0".
struct ConfigError : std::runtime_error {
  using runtime_error::runtime_error;
};

enum class RelayTls { StartTls, Implicit, None };
// [srs] enabled: written "auto", true or false (docs/srs.md).
enum class SrsMode { Auto, On, Off };
// "auto", "true", "false".
std::string_view to_string(SrsMode mode);
// [delivery] ip_version: which address families outgoing connections use.
enum class IpVersion { Any, V4, V6 };
// [delivery] prefer: which family is tried first when a host has both.
enum class IpPrefer { V4, V6 };
// "starttls", "implicit", "none".
std::string_view to_string(RelayTls tls);

// A smart host, written as [[relay]]. Relays are tried in the order written.
struct Relay {
  std::string host;     // a domain name or an IP address
  uint16_t port = 587;  // when not written: 587 for starttls, 465 for implicit, 25 for none
  RelayTls tls = RelayTls::StartTls;
  std::string username, password;    // both or neither; AUTH is used when set
  std::vector<std::string> domains;  // recipient domains sent this way; empty = all remote mail
  // A provider's name ("gmail", "ses:eu-west-1"; lib/config/relay_presets.hpp): host, port and
  // tls are the provider's unless written; "" = none.
  std::string preset;

  bool operator==(const Relay&) const = default;
};

struct Config {
  std::filesystem::path config_dir;  // where hikyaku.toml was read from
  std::filesystem::path file;        // the toml file
  std::string hostname;              // default: gethostname(); a valid domain name, lower case
  std::filesystem::path data_dir = "/var/lib/hikyaku";  // relative paths resolved on config_dir
  // Started as root, the daemon binds its ports and then runs as this user; empty = stay as
  // started.
  std::string run_as;
  // Networks that may relay without AUTH (the local web app of a dev setup).
  std::vector<Cidr> trusted_networks = {
      {boost::asio::ip::address_v4(0x7F000000), 8},
      {boost::asio::ip::address_v6::loopback(), 128},
  };
  std::vector<std::string> trusted_sender_domains;  // empty = trusted networks may use any sender
  bool allow_plain_auth_from_trusted = false;  // AUTH without TLS from trusted nets on loopback
  // Load balancers whose connections start with a PROXY protocol header (v1 or v2) naming the
  // client; required from these addresses, refused from any other. Empty = no load balancer.
  std::vector<Cidr> proxy_networks;

  // An empty list disables that listener.
  struct Listen {
    std::vector<Endpoint> smtp = {{"0.0.0.0", 25}, {"::", 25}};
    std::vector<Endpoint> submission = {{"0.0.0.0", 587}, {"::", 587}};
    std::vector<Endpoint> submission_tls = {{"0.0.0.0", 465}, {"::", 465}};
    std::vector<Endpoint> metrics;
    // The web console and its API (daemon/console/console_server.hpp): HTTP and HTTPS on one
    // port; remote clients need TLS and the password of [console] password_file.
    std::vector<Endpoint> console;
    bool operator==(const Listen&) const = default;
  } listen;

  struct Limits {
    uint64_t max_message_size = 50 * 1024 * 1024;  // RFC 1870 SIZE; at least 64KiB (§4.5.3.1.7)
    size_t max_recipients = 100;  // RFC 5321 §4.5.3.1.8: at least 100 SHOULD be accepted
    size_t max_connections = 1000;
    // Postfix's default; trusted_networks and authenticated sessions are not counted.
    size_t max_connections_per_ip = 50;
    size_t connection_rate_per_ip = 120;  // per minute, clients outside trusted_networks; 0 = off
    // Stress mode (as Postfix's): at this percentage of max_connections, idle and unfinished
    // command lines get stress_timeout instead; 0 = never.
    size_t stress_threshold = 75;
    std::chrono::seconds stress_timeout{10};
    // The longest a command line may stay unfinished once begun (RFC 5321 §4.5.3.2.7 sets 5
    // minutes per command; a line that trickles in byte by byte gets much less).
    std::chrono::seconds command_line_timeout{60};
    size_t max_auth_failures = 3;        // per connection, then 421
    size_t auth_failures_per_ip = 10;    // in auth_failure_window, then auth_ban_time
    size_t auth_failures_per_user = 30;  // in auth_failure_window, then replies slow down
    std::chrono::seconds auth_failure_window{900};
    std::chrono::seconds auth_ban_time{900};
    size_t messages_per_hour_user = 1000;           // per authenticated user; 0 = off
    size_t messages_per_hour_trusted = 0;           // per trusted address; 0 = off
    int max_received_headers = 50;                  // loop detection by hop count, RFC 5321 §6.3
    std::chrono::seconds command_timeout{300};      // RFC 5321 §4.5.3.2.7: 5 minutes
    std::chrono::seconds data_timeout{600};         // whole DATA phase; §4.5.3.2.6 (10 min)
    std::chrono::seconds connection_timeout{3600};  // total session lifetime cap
    // On SIGTERM, how long a DATA in progress and deliveries in flight may take to finish; kept
    // below systemd's TimeoutStopSec (deploy/hikyaku.service) so that nothing is killed midway.
    std::chrono::seconds shutdown_grace{30};
    bool operator==(const Limits&) const = default;
  } limits;

  // AUTH: the cache of successful password checks (domains/auth_cache.hpp). 0 for either turns
  // it off, and every login runs scrypt.
  struct Auth {
    std::chrono::seconds cache_ttl{300};  // how long one successful check is trusted again
    size_t cache_size = 1000;             // entries at most; the oldest goes first
    bool operator==(const Auth&) const = default;
  } auth;

  struct Tls {
    base::MinTls min_version = base::MinTls::V1_2;  // written "1.2" | "1.3"
    // Server side: issue TLS session tickets (RFC 5077, RFC 8446 §4.6.1). Off by default, since
    // Microsoft's sending servers are known to fail against servers that issue them.
    bool session_tickets = false;
    bool operator==(const Tls&) const = default;
  } tls;

  struct Queue {
    std::chrono::seconds lifetime{5 * 86400};  // then bounce; RFC 5321 §4.5.4.1: 4-5 days
    // Waits between attempts; the last one repeats until the lifetime ends.
    std::vector<std::chrono::seconds> retry = {
        std::chrono::minutes(5), std::chrono::minutes(15), std::chrono::minutes(30),
        std::chrono::hours(1),   std::chrono::hours(2),    std::chrono::hours(4),
    };
    std::chrono::seconds delay_warning{4 * 3600};  // 0 = off
    size_t max_concurrent_deliveries = 50;
    // Below this many free bytes on the queue's file system, new mail is refused at MAIL FROM
    // (452 4.3.1) until space returns: room for a few messages of max_message_size, for the
    // queue's state files and for the mail already accepted to be delivered. 0 = off.
    uint64_t min_free_space = 200 * 1024 * 1024;
    bool operator==(const Queue&) const = default;
  } queue;

  // The Sender Rewriting Scheme for mail forwarded to remote addresses (docs/srs.md).
  struct Srs {
    // Auto: on when an alias or catch-all forwards to a remote address (in effect, whenever there
    // is a forward to rewrite); On: the same, stated; Off: no rewriting, and SRS0=/SRS1= local
    // parts are ordinary addresses (bounces to earlier SRS addresses are then refused).
    SrsMode enabled = SrsMode::Auto;
    // The domain of SRS addresses; "" = the domain of the address the mail was forwarded for
    // (a local domain: its MX is us, and its SPF record names us).
    std::string domain;
    std::chrono::seconds max_age{21 * 86400};  // bounces to older SRS0 addresses get 550
    bool operator==(const Srs&) const = default;
  } srs;

  struct Dns {
    std::vector<Endpoint> servers;  // empty = /etc/resolv.conf; port 53 unless written
    std::chrono::milliseconds timeout{5000};
    int attempts = 3;
    bool operator==(const Dns&) const = default;
  } dns;

  struct Spf {
    bool reject_fail = false;  // reject MAIL FROM on an SPF "fail" (RFC 7208 §8.4)
    bool operator==(const Spf&) const = default;
  } spf;

  struct Dmarc {
    // DMARC (RFC 7489) for mail from strangers on port 25: look up the From: domain's policy and
    // record the result in Authentication-Results. false: no lookups at all.
    bool enabled = true;
    // Act on the policy of mail that fails: p=reject → 550 5.7.1 at the final dot, p=quarantine
    // → an X-Hikyaku-Quarantine header field. false: only record the result (docs/dmarc.md).
    bool enforce = false;
    bool operator==(const Dmarc&) const = default;
  } dmarc;

  struct Delivery {
    // MTA-STS (RFC 8461) for mail sent to MX hosts: TLS with a verified certificate where the
    // recipient domain publishes a policy. false: no MTA-STS lookups at all.
    bool mta_sts = true;
    // DANE (RFC 7672): TLSA records validated by the resolver make TLS mandatory and
    // authenticate the MX host. Effective only when [dns] servers name a validating resolver.
    bool dane = true;
    // How we look to a receiver, and how hard we push each destination (docs/delivery.md).
    IpVersion ip_version = IpVersion::Any;
    // IPv4 first: Gmail refuses mail over IPv6 from an address without a matching PTR record,
    // and a host's IPv6 address often has none.
    IpPrefer prefer = IpPrefer::V4;
    std::string source_ipv4, source_ipv6;    // the local address to send from; empty = the kernel's
    std::string helo_name;                   // our name in EHLO; empty = hostname
    size_t max_connections_per_host = 5;     // per MX address
    size_t max_connections_per_domain = 10;  // per destination domain (or smart host)
    size_t max_messages_per_connection = 100;  // transactions on one reused connection
    size_t rate_per_domain = 0;                // messages a minute to one domain; 0 = no limit
    // The back-off of a destination that answered 421 or 4.7.x: backoff_min, doubling per
    // repeated deferral up to backoff_max.
    std::chrono::seconds backoff_min{60};
    std::chrono::seconds backoff_max{3600};
    bool operator==(const Delivery&) const = default;
  } delivery;

  // Capture mode (docs/capture.md): mail accepted from trusted_networks (not from authenticated
  // users) is stored in DATA_DIR/capture for the console and its API instead of being delivered.
  struct Capture {
    bool enabled = false;         // read at start only: turning it on or off needs a restart
    size_t max_messages = 10000;  // the oldest captured messages are dropped beyond it
    // Recipients delivered for real all the same: "*@domain", "*@*.domain", "user@domain"
    // (lower case; matched case-insensitively).
    std::vector<std::string> deliver;
    bool operator==(const Capture&) const = default;
  } capture;
  // [console]: the web console's access (docs/console.md).
  struct Console {
    // The operator password's scrypt hash (hikyaku-util console-password); written relative,
    // read from config_dir. Empty: no password, so only loopback clients get in.
    std::filesystem::path password_file;
    // Host names the console answers to besides localhost, its listen addresses and hostname
    // (anything else is refused: DNS rebinding).
    std::vector<std::string> hostnames;
    // Delivery events the console's log page keeps in memory, newest first (docs/api.md).
    size_t log_events = 1000;
    bool operator==(const Console&) const = default;
  } console;

  std::vector<Relay> relays;  // [[relay]]; empty = deliver directly to MX hosts
  base::LogLevel log_level = base::LogLevel::Info;  // written "debug" | "info" | "warn" | "error"

  std::filesystem::path certs_dir() const { return config_dir / "certs"; }
  std::filesystem::path domains_dir() const { return config_dir / "domains"; }
  std::filesystem::path queue_dir() const { return data_dir / "queue"; }
  std::filesystem::path mail_dir() const { return data_dir / "mail"; }

  bool operator==(const Config&) const = default;
};

// A key hikyaku.toml may hold: section "" is the top level, "relay" the [[relay]] tables.
struct KeyName {
  std::string section;
  std::string name;
  auto operator<=>(const KeyName&) const = default;
};

// Every key, in the order of deploy/hikyaku.toml, [[relay]]'s last.
const std::vector<KeyName>& known_keys();

// Reads config_dir/hikyaku.toml (config_dir made absolute first). Throws ConfigError.
Config load_config(const std::filesystem::path& config_dir);

// Parses TOML text; `file_for_errors` is the name errors carry and Config::file.
Config parse_config(std::string_view toml_text, const std::filesystem::path& file_for_errors,
                    const std::filesystem::path& config_dir);

// The effective configuration as TOML that parse_config reads back to an equal Config, except that
// passwords are shown as "***" (for `hikyaku-util print-config`).
std::string to_toml(const Config& cfg);

// A key whose value differs between the running configuration and one loaded for a reload.
struct KeyChange {
  std::string key;     // "limits.max_recipients", "hostname"; "relay" for any [[relay]] change
  bool needs_restart;  // the running daemon keeps the old value until it is restarted
  bool operator==(const KeyChange&) const = default;
};

// The keys whose values differ, in the order of the table (keys.hpp), [[relay]] last.
std::vector<KeyChange> diff_config(const Config& running, const Config& loaded);

// `loaded` with the values of `running` for every key that needs a restart: what a reload puts in
// force.
Config keep_restart_keys(const Config& running, Config loaded);

// "section.name", or "name" at the top level.
std::string key_path(std::string_view section, std::string_view name);

}  // namespace hk::config
