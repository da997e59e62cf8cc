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
#include "lib/http/https_get.hpp"
#include "lib/mta_sts/mta_sts_policy.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "lib/spf/check_host.hpp"
#include "util/args.hpp"
#include "util/command.hpp"
#include "util/dns_options.hpp"
#include "util/dns_records.hpp"
#include "util/load_config.hpp"
#include "util/tlsa.hpp"

namespace hk::util {
namespace {

namespace asio = boost::asio;

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

struct Row {
  std::string what;
  std::string status;  // "ok", "MISSING", "DIFFERS", "none"
  std::string detail;
};

struct CheckInput {
  std::string domain;
  std::string hostname;
  std::vector<DkimTxt> dkim;  // value = the local p=
  bool dane = false;
  std::vector<LiveChain> chains;  // with dane: the live certificates
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool same_host(std::string_view a, std::string_view b) {
  while (a.ends_with('.')) {
    a.remove_suffix(1);
  }
  while (b.ends_with('.')) {
    b.remove_suffix(1);
  }
  return lower(a) == lower(b);
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// tag=value; tag=value (RFC 6376 §3.2, RFC 7489 §6.4); the tag names lower-cased.
std::vector<std::pair<std::string, std::string>> tags(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view item = text.substr(0, semi);
    text.remove_prefix(semi == std::string_view::npos ? text.size() : semi + 1);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      out.emplace_back(lower(trim(item.substr(0, eq))), trim(item.substr(eq + 1)));
    }
  }
  return out;
}

std::string tag(std::string_view text, std::string_view name) {
  for (auto& [n, v] : tags(text)) {
    if (n == name) {
      return v;
    }
  }
  return "";
}

std::string no_space(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      out += c;
    }
  }
  return out;
}

std::string join_ips(const std::vector<asio::ip::address>& ips) {
  std::string out;
  for (const auto& a : ips) {
    out += (out.empty() ? "" : " ") + a.to_string();
  }
  return out;
}

// MTA-STS (RFC 8461) is optional: no _mta-sts record is fine. A published record promises a
// policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt (§3.3); it must be served over
// verified TLS, parse, and name this host among its MX patterns (§4.1), or senders that enforce
// it would refuse to deliver here.
asio::awaitable<Row> check_mta_sts(dns::Lookup& dns, const CheckInput& in) {
  namespace sts = delivery::sts;
  dns::Answer<std::string> txt = co_await dns.txt("_mta-sts." + in.domain);
  std::optional<std::string> id = txt.ec ? std::nullopt : sts::txt_id(txt.records);
  if (!id) {
    co_return Row{"MTA-STS", "none",
                  "no _mta-sts record (optional; dns-records --mta-sts prints one)"};
  }
  const std::string host = "mta-sts." + in.domain;
  const std::string url = "https://" + host + "/.well-known/mta-sts.txt";
  std::vector<asio::ip::address> addrs;
  dns::Answer<asio::ip::address> a4 = co_await dns.a(host);
  dns::Answer<asio::ip::address> a6 = co_await dns.aaaa(host);
  addrs.insert(addrs.end(), a4.records.begin(), a4.records.end());
  addrs.insert(addrs.end(), a6.records.begin(), a6.records.end());
  if (addrs.empty()) {
    co_return Row{"MTA-STS", "MISSING", "record id=" + *id + " but no address for " + host};
  }
  std::string error;
  std::shared_ptr<asio::ssl::context> ctx = delivery::make_client_tls_context("", error);
  if (!ctx) {
    co_return Row{"MTA-STS", "MISSING", "cannot load the system's TLS roots: " + error};
  }
  delivery::HttpsRequest req;
  req.host = host;
  req.path = "/.well-known/mta-sts.txt";
  req.timeout = std::chrono::seconds(20);
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  delivery::HttpsResult got = co_await delivery::https_get(ex, *ctx, std::move(addrs), req);
  if (!got.ok) {
    co_return Row{"MTA-STS", "MISSING", "record id=" + *id + " but " + url + ": " + got.error};
  }
  std::optional<sts::Policy> policy = sts::parse_policy(got.body);
  if (!policy) {
    co_return Row{"MTA-STS", "DIFFERS", url + " is not a valid STSv1 policy"};
  }
  std::string mode(sts::to_string(policy->mode));
  std::string patterns;
  for (const std::string& m : policy->mx) {
    patterns += (patterns.empty() ? "" : ", ") + m;
  }
  if (policy->mode != sts::Mode::None && !sts::mx_allowed(*policy, in.hostname)) {
    co_return Row{"MTA-STS", "DIFFERS",
                  "mode " + mode + ", but mx " + patterns + " does not match " + in.hostname};
  }
  co_return Row{"MTA-STS", "ok",
                "mode " + mode + ", id " + *id + ", mx " + patterns + ", max_age " +
                    std::to_string(policy->max_age)};
}

// TLS-RPT (RFC 8460) is optional; a published record must be the only one and well formed.
asio::awaitable<Row> check_tls_rpt(dns::Lookup& dns, const CheckInput& in) {
  const std::string name = "_smtp._tls." + in.domain;
  dns::Answer<std::string> txt = co_await dns.txt(name);
  TlsRptCheck c = check_tlsrpt(txt.ec ? std::vector<std::string>() : txt.records);
  if (!c.present) {
    co_return Row{"TLS-RPT", "none", "no TLS-RPT record at " + name + ". (optional)"};
  }
  if (!c.problem.empty()) {
    co_return Row{"TLS-RPT", "DIFFERS", c.problem + ": " + c.record};
  }
  co_return Row{"TLS-RPT", "ok", c.record};
}

// DANE (RFC 7672): the TLSA records at _25._tcp.HOSTNAME must match the certificate this server
// presents, or senders that use DANE refuse to deliver here (§2.2, §3.1). Each live certificate
// (one per key type served) must be matched by a record.
asio::awaitable<std::vector<Row>> check_dane(dns::Lookup& dns, const CheckInput& in) {
  const std::string name = "_25._tcp." + in.hostname;
  std::vector<Row> rows;
  dns::Answer<dns::TlsaRecord> got = co_await dns.tlsa(name);
  for (const LiveChain& chain : in.chains) {
    const std::string what = "TLSA " + chain.folder;
    const std::string want = tlsa_text(dane_ee_record(chain));
    if (got.ec) {
      rows.push_back({what, "MISSING",
                      "expected " + name + ". IN TLSA " + want + " (" + got.ec.message() + ")"});
      continue;
    }
    std::string seen;
    bool ok = false;
    for (const dns::TlsaRecord& r : got.records) {
      seen += (seen.empty() ? "" : ", ") + tlsa_text(r);
      ok = ok || tlsa_matches(r, chain);
    }
    if (ok) {
      rows.push_back({what, "ok", "a record at " + name + ". matches the live certificate"});
    } else {
      rows.push_back({what, "DIFFERS",
                      "no record at " + name + ". matches the live certificate (" + want +
                          "); found " + seen + " - DANE senders would refuse delivery"});
    }
  }
  co_return rows;
}

asio::awaitable<std::vector<Row>> run_checks(dns::Lookup& dns, CheckInput in) {
  std::vector<Row> rows;
  const std::string host = in.hostname + ".";
  // MX (RFC 5321 §5.1)
  dns::Answer<dns::MxRecord> mx = co_await dns.mx(in.domain);
  if (mx.ec) {
    rows.push_back({"MX", "MISSING", "expected 10 " + host + " (" + mx.ec.message() + ")"});
  } else {
    const dns::MxRecord* found = nullptr;
    std::string seen;
    for (const dns::MxRecord& r : mx.records) {
      seen += (seen.empty() ? "" : ", ") + std::to_string(r.preference) + " " + r.host;
      if (same_host(r.host, in.hostname)) {
        found = &r;
      }
    }
    if (found != nullptr) {
      rows.push_back({"MX", "ok", std::to_string(found->preference) + " " + host});
    } else {
      rows.push_back({"MX", "DIFFERS", "expected 10 " + host + ", found " + seen});
    }
  }
  // A / AAAA of the hostname
  std::vector<asio::ip::address> ips;
  dns::Answer<asio::ip::address> a4 = co_await dns.a(in.hostname);
  dns::Answer<asio::ip::address> a6 = co_await dns.aaaa(in.hostname);
  ips.insert(ips.end(), a4.records.begin(), a4.records.end());
  if (a4.ec) {
    rows.push_back({"A " + host, a6.ec ? "MISSING" : "none", "no IPv4 address"});
  } else {
    rows.push_back({"A " + host, "ok", join_ips(a4.records)});
  }
  ips.insert(ips.end(), a6.records.begin(), a6.records.end());
  if (a6.ec) {
    rows.push_back({"AAAA " + host, a4.ec ? "MISSING" : "none", "no IPv6 address"});
  } else {
    rows.push_back({"AAAA " + host, "ok", join_ips(a6.records)});
  }
  // PTR of each address: receivers check it (RFC 8601 §2.7.3 iprev, RFC 5451).
  for (const asio::ip::address& ip : ips) {
    dns::Answer<std::string> p = co_await dns.ptr(ip);
    bool ok = false;
    std::string seen;
    for (const std::string& name : p.records) {
      seen += (seen.empty() ? "" : ", ") + name;
      ok = ok || same_host(name, in.hostname);
    }
    if (p.ec) {
      rows.push_back({"PTR " + ip.to_string(), "MISSING", "expected " + host});
    } else if (!ok) {
      rows.push_back({"PTR " + ip.to_string(), "DIFFERS", "expected " + host + ", found " + seen});
    } else {
      rows.push_back({"PTR " + ip.to_string(), "ok", host});
    }
  }
  // SPF (RFC 7208 §4.5: the record starts with "v=spf1")
  dns::Answer<std::string> txt = co_await dns.txt(in.domain);
  std::string spf;
  for (const std::string& t : txt.records) {
    std::string l = lower(t);
    if (l == "v=spf1" || l.starts_with("v=spf1 ")) {
      spf = t;
    }
  }
  if (spf.empty()) {
    rows.push_back({"SPF", "MISSING", "expected a v=spf1 record at " + in.domain + "."});
  } else {
    rows.push_back({"SPF", "ok", spf});
    const std::string sender = "postmaster@" + in.domain;
    for (const asio::ip::address& ip : ips) {
      spf::Outcome o =
          co_await spf::check_host(dns, ip, in.domain, sender, in.hostname, in.hostname);
      std::string got = std::string(spf::to_string(o.result)) + " (mechanism: " + o.mechanism +
                        ")" + (o.problem.empty() ? "" : ": " + o.problem);
      if (o.result == spf::Result::Pass) {
        rows.push_back({"SPF " + ip.to_string(), "ok", got});
      } else {
        rows.push_back({"SPF " + ip.to_string(), "DIFFERS", "expected pass, got " + got});
      }
    }
  }
  // DKIM: S._domainkey.DOMAIN must publish the local key's p= (RFC 6376 §3.6.2.1).
  if (in.dkim.empty()) {
    rows.push_back({"DKIM", "none", "no local key (hikyaku-util dkim-keygen " + in.domain + ")"});
  }
  for (const DkimTxt& k : in.dkim) {
    std::string name = k.selector + "._domainkey." + in.domain;
    dns::Answer<std::string> kt = co_await dns.txt(name);
    std::string what = "DKIM " + k.selector;
    if (kt.ec) {
      rows.push_back({what, "MISSING", "expected TXT at " + name + "."});
      continue;
    }
    std::string want = no_space(k.value);
    bool ok = false;
    for (const std::string& t : kt.records) {
      ok = ok || no_space(tag(t, "p")) == want;
    }
    rows.push_back({what, ok ? "ok" : "DIFFERS",
                    ok ? "p= matches the local key" : "expected the p= of the local key"});
  }
  // DMARC (RFC 7489 §6.3: v=DMARC1 first, p= required)
  std::string dmarc_name = "_dmarc." + in.domain;
  dns::Answer<std::string> dt = co_await dns.txt(dmarc_name);
  std::string dmarc;
  for (const std::string& t : dt.records) {
    if (lower(trim(t)).starts_with("v=dmarc1")) {
      dmarc = t;
    }
  }
  if (dmarc.empty()) {
    rows.push_back({"DMARC", "MISSING", "expected TXT at " + dmarc_name + "."});
  } else {
    auto t = tags(dmarc);
    bool first = !t.empty() && t[0].first == "v" && t[0].second == "DMARC1";
    std::string p = lower(tag(dmarc, "p"));
    if (first && (p == "none" || p == "quarantine" || p == "reject")) {
      rows.push_back({"DMARC", "ok", "policy " + p});
    } else {
      rows.push_back(
          {"DMARC", "DIFFERS", "expected v=DMARC1; p=none|quarantine|reject, found " + dmarc});
    }
  }
  rows.push_back(co_await check_mta_sts(dns, in));
  rows.push_back(co_await check_tls_rpt(dns, in));
  if (in.dane) {
    std::vector<Row> dane = co_await check_dane(dns, in);
    rows.insert(rows.end(), dane.begin(), dane.end());
  }
  co_return rows;
}

int check_dns(const Context& ctx, const std::vector<std::string>& words) {
  Args args(words, {"dane"}, {});
  args.expect(1, "a DOMAIN");
  CheckInput in;
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
  auto fut = asio::co_spawn(io, run_checks(resolver, std::move(in)), asio::use_future);
  io.run();
  std::vector<Row> rows = fut.get();
  size_t width = 0;
  for (const Row& r : rows) {
    width = std::max(width, r.what.size());
  }
  bool all_ok = true;
  for (const Row& r : rows) {
    std::cout << std::left << std::setw(static_cast<int>(width + 2)) << r.what << std::setw(9)
              << r.status << r.detail << "\n";
    all_ok = all_ok && (r.status == "ok" || r.status == "none");
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
