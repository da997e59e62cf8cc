// hikyaku-util commands for DNS: dns-records (what to publish), check-dns (what is published,
// compared with this server, its DKIM keys and certificates) and spf-check (an SPF verdict from
// the live DNS). The two agree: publishing exactly what dns-records prints makes check-dns pass.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "lib/config/config.hpp"
#include "lib/dkim/keys.hpp"
#include "lib/dns/resolver.hpp"
#include "lib/dns_check/dns_check.hpp"
#include "lib/dns_check/tlsa.hpp"
#include "lib/spf/check_host.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/dns_options.hpp"
#include "util/dns_records.hpp"
#include "util/load_config.hpp"

namespace hk::util {
namespace {

namespace asio = boost::asio;
using dns_check::dane_ee_record;
using dns_check::live_chains;
using dns_check::LiveChain;
using dns_check::tlsa_text;

// MTA-STS id: 1-32 alphanumerics (RFC 8461 §3.1); the UTC time makes a new one per change.
std::string sts_id_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::ostringstream os;
  os << std::put_time(&tm, "%Y%m%d%H%M%S");
  return os.str();
}

std::string address_option(const Args& args, std::string_view name, bool v4) {
  std::optional<std::string> text = args.value(name);
  if (!text) {
    return "";
  }
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(*text, ec);
  if (ec || a.is_v4() != v4) {
    throw UsageError("--" + std::string(name) + " takes an IPv" + (v4 ? "4" : "6") + " address");
  }
  return a.to_string();
}

int dns_records(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"mta-sts", "dane"}, {"ip4", "ip6", "format", "dmarc-policy", "rua"});
  args.expect(1, "a DOMAIN");
  RecordsInput in;
  in.domain = parse_domain(args.positional()[0]);
  in.ip4 = address_option(args, "ip4", true);
  in.ip6 = address_option(args, "ip6", false);
  std::string format = args.value("format").value_or("zone");
  if (format != "zone" && format != "json") {
    throw UsageError("--format is zone or json");
  }
  in.dmarc_policy = args.value("dmarc-policy").value_or("quarantine");
  if (in.dmarc_policy != "none" && in.dmarc_policy != "quarantine" && in.dmarc_policy != "reject") {
    throw UsageError("--dmarc-policy is none, quarantine or reject");
  }
  if (auto rua = args.value("rua")) {
    std::string addr = rua->starts_with("mailto:") ? rua->substr(7) : *rua;
    size_t at = addr.rfind('@');
    if (at == std::string::npos || at == 0) {
      throw UsageError("--rua takes an address, local@domain");
    }
    parse_domain(addr.substr(at + 1));
    in.rua = addr;
  }
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  in.hostname = cfg.hostname;
  in.sts_id = sts_id_now();
  in.mta_sts = args.has("mta-sts");
  if (args.has("dane")) {
    std::string error;
    std::vector<LiveChain> chains = live_chains(cfg.certs_dir(), cfg.hostname, error);
    if (chains.empty()) {
      std::cerr << "hikyaku-util: --dane: " << error << "\n";
      return kExitFailure;
    }
    for (const LiveChain& c : chains) {
      in.tlsa.push_back({c.folder, tlsa_text(dane_ee_record(c))});
    }
  }
  for (const dkim::DkimKey& k : dkim::load_domain_keys(ctx.domains_dir(), in.domain)) {
    in.dkim.push_back({k.selector, dkim::dns_txt_value(k)});
  }
  std::vector<DnsRecord> records = records_for(in);
  std::cout << (format == "json" ? to_json(records) : to_zone(records));
  return kExitOk;
}

// --- check-dns ---

int check_dns(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"dane"}, {});
  args.expect(1, "a DOMAIN");
  dns_check::CheckInput in;
  in.domain = parse_domain(args.positional()[0]);
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  in.hostname = cfg.hostname;
  for (const dkim::DkimKey& k : dkim::load_domain_keys(ctx.domains_dir(), in.domain)) {
    in.dkim.push_back({k.selector, k.public_b64});
  }
  in.dane = args.has("dane");
  if (in.dane) {
    std::string error;
    in.chains = live_chains(cfg.certs_dir(), cfg.hostname, error);
    if (in.chains.empty()) {
      std::cerr << "hikyaku-util: --dane: " << error << "\n";
      return kExitFailure;
    }
  }
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), resolver_options(cfg));
  auto fut = asio::co_spawn(io, dns_check::run_checks(resolver, std::move(in)), asio::use_future);
  io.run();
  std::vector<dns_check::Row> rows = fut.get();
  size_t width = 0;
  for (const dns_check::Row& r : rows) {
    width = std::max(width, r.what.size());
  }
  bool all_ok = true;
  for (const dns_check::Row& r : rows) {
    std::cout << std::left << std::setw(static_cast<int>(width + 2)) << r.what << std::setw(9)
              << r.status << r.detail << "\n";
    all_ok = all_ok && dns_check::row_ok(r);
  }
  std::cout << (all_ok ? "all records are in place\n" : "some records need attention\n");
  return all_ok ? kExitOk : kExitFailure;
}

// --- spf-check ---

int spf_check(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {}, {});
  if (args.positional().size() != 2 && args.positional().size() != 3) {
    throw UsageError("expected IP SENDER [HELO]");
  }
  boost::system::error_code ec;
  asio::ip::address ip = asio::ip::make_address(args.positional()[0], ec);
  if (ec) {
    throw UsageError("invalid IP address \"" + args.positional()[0] + "\"");
  }
  std::string sender = args.positional()[1];
  std::string helo = args.positional().size() == 3 ? args.positional()[2] : "";
  std::string domain;
  if (sender.empty() || sender == "<>") {
    if (helo.empty()) {
      throw UsageError("a null SENDER needs a HELO name");
    }
    // RFC 7208 §2.4: with a null reverse-path, check the HELO identity as postmaster@HELO.
    domain = parse_domain(helo);
    sender = "postmaster@" + domain;
  } else {
    size_t at = sender.rfind('@');
    if (at == std::string::npos) {
      throw UsageError("SENDER must be local@domain or <>");
    }
    domain = parse_domain(sender.substr(at + 1));
  }
  if (helo.empty()) {
    helo = domain;
  }
  config::Config cfg;
  if (!load_or_report(ctx, cfg)) {
    return kExitFailure;
  }
  asio::io_context io;
  dns::Resolver resolver(io.get_executor(), resolver_options(cfg));
  auto fut = asio::co_spawn(io, spf::check_host(resolver, ip, domain, sender, helo, cfg.hostname),
                            asio::use_future);
  io.run();
  spf::Outcome o = fut.get();
  std::cout << spf::to_string(o.result) << " (mechanism: " << o.mechanism << ")\n";
  if (!o.explanation.empty()) {
    std::cout << "explanation: " << o.explanation << "\n";
  }
  if (!o.problem.empty()) {
    std::cout << "problem: " << o.problem << "\n";
  }
  return kExitOk;
}

constexpr Command kCommands[] = {
    {"dns-records",
     "DOMAIN [--ip4=A] [--ip6=B] [--format=zone|json] [--dmarc-policy=none|quarantine|reject] "
     "[--rua=ADDR] [--mta-sts] [--dane]",
     "Print the DNS records to publish for DOMAIN and this server: MX, A/AAAA, SPF, DKIM, DMARC,\n"
     "TLS-RPT, and the PTR to ask the hosting provider for. --mta-sts adds MTA-STS (the record,\n"
     "the policy host and the policy file to serve over HTTPS); --dane adds the TLSA 3 1 1\n"
     "record of the live certificate. Publishing what it prints makes check-dns pass.",
     dns_records},
    {"check-dns", "DOMAIN [--dane]",
     "Query the live DNS (the [dns] servers) and compare MX, A/AAAA, PTR, SPF, DKIM, DMARC,\n"
     "MTA-STS (when published: the policy is fetched) and TLS-RPT (when published) with this\n"
     "server; --dane: the TLSA records at _25._tcp.HOSTNAME must match the live certificate.\n"
     "One row per record; exit 0 only when everything is in place.",
     check_dns},
    {"spf-check", "IP SENDER [HELO]",
     "Evaluate SPF (RFC 7208) for a client IP and a MAIL FROM (or HELO when SENDER is <>),\n"
     "and print the result with the matching mechanism.",
     spf_check},
};

}  // namespace

std::span<const Command> dns_commands() { return kCommands; }

}  // namespace hk::util
