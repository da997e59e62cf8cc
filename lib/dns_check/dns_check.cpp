// check-dns's core: the live DNS of a local domain compared with this server, record by record.
#include "lib/dns_check/dns_check.hpp"

#include <boost/asio/this_coro.hpp>
#include <memory>
#include <optional>

#include "lib/dns_check/tlsrpt.hpp"
#include "lib/http/https_get.hpp"
#include "lib/mta_sts/mta_sts_policy.hpp"
#include "lib/smtp_client/smtp_client.hpp"
#include "lib/spf/check_host.hpp"

namespace hk::dns_check {

namespace asio = boost::asio;

namespace {

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

}  // namespace

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
  for (const DkimPublic& k : in.dkim) {
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

bool row_ok(const Row& row) { return row.status == "ok" || row.status == "none"; }

}  // namespace hk::dns_check
