// Every key of hikyaku.toml in one table: its section, its name, the Config member it sets and the
// kind of value it holds. parse.cpp reads by this table, print.cpp prints by it, known_keys() lists
// it and a unit test holds deploy/hikyaku.toml to it. Internal to hk_config.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/config/config.hpp"

namespace hk::config::keys {

using namespace std::chrono_literals;

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kGiB = kKiB * kKiB * kKiB;

// The kinds of value. Each is plain data (a range, a list of names): parse.cpp has one read() and
// print.cpp one value() per kind, so a kind that either of them lacks does not compile.
struct Flag {};  // true or false
struct Count {   // an integer within [min, max]
  int64_t min, max;
};
struct Size {  // "50MiB", "10MB" or an integer number of bytes, within [min, max]
  uint64_t min, max;
};
// "1h30m" or an integer number of seconds, within [min, max]; "500ms" only where the member holds
// milliseconds.
struct Duration {
  std::chrono::milliseconds min, max;
};
struct Durations {  // a list of at least one Duration
  std::chrono::milliseconds min, max;
};
struct Text {};       // any string; left out of print-config when empty
struct Secret {};     // as Text, but printed as "***"
struct HostName {};   // this server's name: a fully qualified domain name or "localhost"
struct HostOrIp {};   // a domain name or an IP address, lower-cased
struct OneDomain {};  // one domain name, lower-cased; "" = not set
struct HeloName {};   // empty (the default applies) or a host name as HostName
struct IpLiteral {    // empty or an address of one family, in its normal form
  bool v6;
};
struct Dir {};        // a folder; a relative one is taken from CONFIG_DIR
struct File {};       // a file; a relative one is taken from CONFIG_DIR; "" = none
struct Networks {};   // a list of CIDR networks ("10.0.0.0/8")
struct Domains {};    // a list of domain names, lower-cased
struct Listeners {};  // a list of "address:port"; no endpoint twice among all listeners
struct Servers {      // a list of "address[:port]", the port not 0
  uint16_t default_port;
};
// [[relay]] preset: a name relay_presets.hpp knows ("gmail", "ses:eu-west-1"), lower-cased; left
// out of print-config when empty.
struct Preset {};
// [capture] deliver: a list of address patterns, "*@domain", "*@*.domain" or "user@domain",
// lower-cased (is_address_pattern).
struct AddressPatterns {};

// One of a few names, stored as an enum: the text is interpreted here and nowhere else.
template <class E>
struct Named {
  std::string_view text;
  E value;
};
template <class E>
struct Choice {
  std::span<const Named<E>> names;
};
template <class E, size_t N>
Choice(const Named<E> (&)[N]) -> Choice<E>;

inline constexpr Named<base::LogLevel> kLogLevels[] = {
    {"debug", base::LogLevel::Debug},
    {"info", base::LogLevel::Info},
    {"warn", base::LogLevel::Warn},
    {"error", base::LogLevel::Error},
};
inline constexpr Named<base::MinTls> kTlsVersions[] = {
    {"1.2", base::MinTls::V1_2},
    {"1.3", base::MinTls::V1_3},
};
// A TOML boolean is read as the name "true" or "false" (parse.cpp), so `enabled = false` works.
inline constexpr Named<SrsMode> kSrsModes[] = {
    {"auto", SrsMode::Auto},
    {"true", SrsMode::On},
    {"false", SrsMode::Off},
};
inline constexpr Named<IpVersion> kIpVersions[] = {
    {"any", IpVersion::Any},
    {"ipv4", IpVersion::V4},
    {"ipv6", IpVersion::V6},
};
inline constexpr Named<IpPrefer> kIpPrefer[] = {
    {"ipv4", IpPrefer::V4},
    {"ipv6", IpPrefer::V6},
};
inline constexpr Named<RelayTls> kRelayTls[] = {
    {"starttls", RelayTls::StartTls},
    {"implicit", RelayTls::Implicit},
    {"none", RelayTls::None},
};

// The name of `value`; every enumerator has one, checked by the unit tests.
template <class E>
constexpr std::string_view name_of(const Choice<E>& choice, E value) {
  for (const Named<E>& n : choice.names) {
    if (n.value == value) {
      return n.text;
    }
  }
  return "";
}

// The table: row(section, name, member, kind) once per key, in the order of deploy/hikyaku.toml.
// Section "" is the top level. C is Config (to read into) or const Config (to print). Defaults are
// not here: they are Config's member initialisers, the one place they are written.
template <class C, class Row>
void for_each_key(C& c, Row&& row) {
  row("", "hostname", c.hostname, HostName{});  // when not written: the system's host name
  row("", "data_dir", c.data_dir, Dir{});
  row("", "run_as", c.run_as, Text{});  // a user name; checked when the daemon starts
  row("", "trusted_networks", c.trusted_networks, Networks{});
  row("", "trusted_sender_domains", c.trusted_sender_domains, Domains{});
  row("", "allow_plain_auth_from_trusted", c.allow_plain_auth_from_trusted, Flag{});
  row("", "proxy_networks", c.proxy_networks, Networks{});
  row("", "log_level", c.log_level, Choice{kLogLevels});

  row("listen", "smtp", c.listen.smtp, Listeners{});
  row("listen", "submission", c.listen.submission, Listeners{});
  row("listen", "submission_tls", c.listen.submission_tls, Listeners{});
  row("listen", "metrics", c.listen.metrics, Listeners{});
  row("listen", "console", c.listen.console, Listeners{});

  // RFC 1870 SIZE; RFC 5321 §4.5.3.1.7: a server must accept messages of at least 64K octets.
  row("limits", "max_message_size", c.limits.max_message_size, Size{64 * kKiB, 2 * kGiB});
  // RFC 5321 §4.5.3.1.8 asks for at least 100 recipients; a smaller limit is the admin's choice.
  row("limits", "max_recipients", c.limits.max_recipients, Count{1, 10'000});
  row("limits", "max_connections", c.limits.max_connections, Count{1, 1'000'000});
  row("limits", "max_connections_per_ip", c.limits.max_connections_per_ip, Count{1, 1'000'000});
  row("limits", "connection_rate_per_ip", c.limits.connection_rate_per_ip, Count{0, 1'000'000});
  row("limits", "stress_threshold", c.limits.stress_threshold, Count{0, 100});
  row("limits", "stress_timeout", c.limits.stress_timeout, Duration{1s, 24h});
  row("limits", "command_line_timeout", c.limits.command_line_timeout, Duration{1s, 24h});
  row("limits", "max_auth_failures", c.limits.max_auth_failures, Count{1, 100});
  row("limits", "auth_failures_per_ip", c.limits.auth_failures_per_ip, Count{1, 100'000});
  row("limits", "auth_failures_per_user", c.limits.auth_failures_per_user, Count{1, 100'000});
  row("limits", "auth_failure_window", c.limits.auth_failure_window, Duration{1s, 7 * 24h});
  row("limits", "auth_ban_time", c.limits.auth_ban_time, Duration{1s, 7 * 24h});
  row("limits", "messages_per_hour_user", c.limits.messages_per_hour_user, Count{0, 10'000'000});
  row("limits", "messages_per_hour_trusted", c.limits.messages_per_hour_trusted,
      Count{0, 10'000'000});
  // RFC 5321 §6.3: loops are detected by counting Received fields against a large threshold.
  row("limits", "max_received_headers", c.limits.max_received_headers, Count{1, 1000});
  // RFC 5321 §4.5.3.2: the server's timeouts SHOULD be at least 5 (commands) and 10 (DATA)
  // minutes, but tests and hostile networks want shorter ones, so only sanity bounds apply.
  row("limits", "command_timeout", c.limits.command_timeout, Duration{1s, 24h});
  row("limits", "data_timeout", c.limits.data_timeout, Duration{1s, 24h});
  row("limits", "connection_timeout", c.limits.connection_timeout, Duration{1s, 7 * 24h});
  row("limits", "shutdown_grace", c.limits.shutdown_grace, Duration{0s, 1h});

  // A successful check is trusted again for at most an hour: the cache is short-lived by design.
  row("auth", "cache_ttl", c.auth.cache_ttl, Duration{0s, 1h});
  row("auth", "cache_size", c.auth.cache_size, Count{0, 1'000'000});

  row("tls", "min_version", c.tls.min_version, Choice{kTlsVersions});
  row("tls", "session_tickets", c.tls.session_tickets, Flag{});

  // RFC 5321 §4.5.4.1: give up after 4-5 days; 30 days is the sanity bound.
  row("queue", "lifetime", c.queue.lifetime, Duration{1s, 30 * 24h});
  row("queue", "retry", c.queue.retry, Durations{1s, 24h});
  row("queue", "delay_warning", c.queue.delay_warning, Duration{0s, 30 * 24h});  // 0 = off
  row("queue", "max_concurrent_deliveries", c.queue.max_concurrent_deliveries, Count{1, 10'000});
  // Free space kept on the queue's file system: below it MAIL FROM gets 452 4.3.1 (RFC 5321
  // §4.2.3 "insufficient system storage", RFC 1870 §6.1); 0 = never refuse for space.
  row("queue", "min_free_space", c.queue.min_free_space, Size{0, 1024 * kGiB});

  row("srs", "enabled", c.srs.enabled, Choice{kSrsModes});
  row("srs", "domain", c.srs.domain, OneDomain{});
  // Whole days count (the timestamp is a day number); below 1024 days, where timestamps wrap.
  row("srs", "max_age", c.srs.max_age, Duration{24h, 1000 * 24h});

  row("dns", "servers", c.dns.servers, Servers{53});
  row("dns", "timeout", c.dns.timeout, Duration{1ms, 60s});
  row("dns", "attempts", c.dns.attempts, Count{1, 10});

  row("spf", "reject_fail", c.spf.reject_fail, Flag{});

  row("dmarc", "enabled", c.dmarc.enabled, Flag{});
  row("dmarc", "enforce", c.dmarc.enforce, Flag{});

  row("delivery", "mta_sts", c.delivery.mta_sts, Flag{});
  row("delivery", "dane", c.delivery.dane, Flag{});
  row("delivery", "ip_version", c.delivery.ip_version, Choice{kIpVersions});
  row("delivery", "prefer", c.delivery.prefer, Choice{kIpPrefer});
  row("delivery", "source_ipv4", c.delivery.source_ipv4, IpLiteral{false});
  row("delivery", "source_ipv6", c.delivery.source_ipv6, IpLiteral{true});
  row("delivery", "helo_name", c.delivery.helo_name, HeloName{});
  row("delivery", "max_connections_per_host", c.delivery.max_connections_per_host, Count{1, 1000});
  row("delivery", "max_connections_per_domain", c.delivery.max_connections_per_domain,
      Count{1, 1000});
  // At least 1; RFC 5321 sets no bound on the transactions of one session.
  row("delivery", "max_messages_per_connection", c.delivery.max_messages_per_connection,
      Count{1, 100'000});
  row("delivery", "rate_per_domain", c.delivery.rate_per_domain, Count{0, 1'000'000});
  row("delivery", "backoff_min", c.delivery.backoff_min, Duration{1s, 24h});
  row("delivery", "backoff_max", c.delivery.backoff_max, Duration{1s, 7 * 24h});

  // Capture mode (docs/capture.md): mail from trusted networks is stored, not delivered.
  row("capture", "enabled", c.capture.enabled, Flag{});
  row("capture", "max_messages", c.capture.max_messages, Count{1, 10'000'000});
  row("capture", "deliver", c.capture.deliver, AddressPatterns{});
  row("console", "password_file", c.console.password_file, File{});
  row("console", "hostnames", c.console.hostnames, Domains{});
  // The console's delivery log: events in memory (a ring of about 200 bytes each); 0 = none.
  row("console", "log_events", c.console.log_events, Count{0, 1'000'000});
}

// The small table of one [[relay]]; R is Relay or const Relay. parse.cpp adds what spans keys:
// host is required unless a preset names it, the preset's values apply to what is not written,
// the port's default follows tls, and username and password go together.
template <class R, class Row>
void for_each_relay_key(R& relay, Row&& row) {
  row("relay", "preset", relay.preset, Preset{});  // first: the keys below override it
  row("relay", "host", relay.host, HostOrIp{});
  row("relay", "port", relay.port, Count{1, 65535});
  row("relay", "tls", relay.tls, Choice{kRelayTls});
  row("relay", "username", relay.username, Text{});
  row("relay", "password", relay.password, Secret{});
  row("relay", "domains", relay.domains, Domains{});
}

}  // namespace hk::config::keys
