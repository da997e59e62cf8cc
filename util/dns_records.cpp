// The records a mail domain publishes for this server; see dns_records.hpp.
#include "util/dns_records.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstdio>

#include "lib/base/json.hpp"
#include "lib/base/quote.hpp"

namespace hk::util {
namespace {

// RFC 1035 §3.3: a <character-string> is a length octet followed by at most 255 octets.
constexpr size_t kMaxTxtString = 255;

std::string abs_name(const std::string& name) { return name + "."; }

DnsRecord placeholder(const std::string& host, const std::string& type, const std::string& what) {
  return {abs_name(host), type, "",
          "add the " + what + " address of " + host + " (this server): " + abs_name(host) + " IN " +
              type + " <address>"};
}

void append_comment(std::string& out, const std::string& text) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    out += "; ";
    out.append(text, start, end - start);
    out += '\n';
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
}

using base::append_json_string;

}  // namespace

std::vector<std::string> split_txt(const std::string& value) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < value.size(); i += kMaxTxtString) {
    parts.push_back(value.substr(i, kMaxTxtString));
  }
  if (parts.empty()) {
    parts.emplace_back();
  }
  return parts;
}

std::string reverse_name(const std::string& ip) {
  std::array<std::uint8_t, 16> b{};
  std::string out;
  if (inet_pton(AF_INET, ip.c_str(), b.data()) == 1) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(b[static_cast<size_t>(i)]) + ".";
    }
    return out + "in-addr.arpa.";
  }
  if (inet_pton(AF_INET6, ip.c_str(), b.data()) == 1) {
    constexpr const char* kHex = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      std::uint8_t v = b[static_cast<size_t>(i)];
      out += kHex[v & 0xf];
      out += '.';
      out += kHex[v >> 4];
      out += '.';
    }
    return out + "ip6.arpa.";
  }
  return "";
}

std::vector<DnsRecord> records_for(const RecordsInput& in) {
  const std::string& d = in.domain;
  const std::string host = abs_name(in.hostname);
  std::vector<DnsRecord> out;
  // RFC 5321 §5.1: mail for DOMAIN goes to the hosts its MX records name.
  out.push_back(
      {abs_name(d), "MX", "10 " + host, "mail for " + d + " is delivered to this server"});
  if (!in.ip4.empty()) {
    out.push_back({host, "A", in.ip4, "IPv4 address of this server"});
  } else {
    out.push_back(placeholder(in.hostname, "A", "IPv4"));
  }
  if (!in.ip6.empty()) {
    out.push_back({host, "AAAA", in.ip6, "IPv6 address of this server"});
  } else {
    out.push_back(placeholder(in.hostname, "AAAA", "IPv6"));
  }
  // RFC 7208 §4.6: "mx" authorizes the MX hosts; "-all" fails everyone else.
  std::string spf = "v=spf1";
  if (!in.ip4.empty()) {
    spf += " ip4:" + in.ip4;
  }
  if (!in.ip6.empty()) {
    spf += " ip6:" + in.ip6;
  }
  spf += " mx -all";
  out.push_back({abs_name(d), "TXT", spf, "SPF (RFC 7208): the hosts allowed to send as " + d});
  for (const DkimTxt& k : in.dkim) {
    out.push_back({abs_name(k.selector + "._domainkey." + d), "TXT", k.value,
                   "DKIM public key, selector " + k.selector + " (RFC 6376 §3.6.2)"});
  }
  const std::string rua = in.rua.empty() ? "postmaster@" + d : in.rua;
  out.push_back({abs_name("_dmarc." + d), "TXT",
                 "v=DMARC1; p=" + in.dmarc_policy + "; rua=mailto:" + rua,
                 "DMARC policy and aggregate reports (RFC 7489 §6.3)"});
  if (in.mta_sts) {
    // RFC 8461 §3.3: the policy is fetched from https://mta-sts.DOMAIN with a valid certificate
    // for that name; a record without it makes senders log failures (and check-dns fail).
    out.push_back(
        {abs_name("mta-sts." + d), "A", "",
         "the web server that serves the MTA-STS policy over HTTPS, with a certificate valid for "
         "mta-sts." +
             d + " (RFC 8461 §3.3):\nmta-sts." + d +
             ". IN A <its address> (or a CNAME to it)\npublish the _mta-sts record below only "
             "once the policy is served there (check-dns fetches it)"});
    out.push_back({abs_name("_mta-sts." + d), "TXT", "v=STSv1; id=" + in.sts_id,
                   "MTA-STS (RFC 8461 §3.1); serve this policy at https://mta-sts." + d +
                       "/.well-known/mta-sts.txt:\nversion: STSv1\nmode: testing\nmx: " +
                       in.hostname + "\nmax_age: 86400\n(a new id= whenever the policy changes)"});
  }
  out.push_back({abs_name("_smtp._tls." + d), "TXT", "v=TLSRPTv1; rua=mailto:postmaster@" + d,
                 "SMTP TLS reporting (RFC 8460 §3): where senders send reports of failed TLS"});
  for (const TlsaLine& t : in.tlsa) {
    // RFC 7672 §3.1.1 / RFC 7671 §5.1: DANE-EE, the SHA-256 of the public key.
    out.push_back(
        {abs_name("_25._tcp." + in.hostname), "TLSA", t.value,
         "DANE (RFC 7672): the public key of certs/" + t.folder +
             "; only in a DNSSEC-signed zone. Before a new key goes into service, publish its "
             "record next to this one and wait two TTLs (RFC 7671 §8.1), or renew keeping the "
             "key (certbot --reuse-key) so that this record stays valid"});
  }
  for (const std::string* ip : {&in.ip4, &in.ip6}) {
    std::string rev = ip->empty() ? "" : reverse_name(*ip);
    if (!rev.empty()) {
      out.push_back(
          {rev, "PTR", host,
           "ask your hosting provider to set the reverse DNS of " + *ip + " to " + in.hostname});
    }
  }
  if (in.ip4.empty() && in.ip6.empty()) {
    out.push_back({"", "PTR", host,
                   "ask your hosting provider to set the reverse DNS of each address of " +
                       in.hostname + " to " + in.hostname});
  }
  return out;
}

std::string to_zone(const std::vector<DnsRecord>& records) {
  std::string out;
  for (const DnsRecord& r : records) {
    if (!r.note.empty()) {
      append_comment(out, r.note);
    }
    if (r.value.empty() || r.type == "PTR" || r.name.empty()) {
      // Not part of this zone, or to be filled in: a comment only.
      if (r.type == "PTR" && !r.name.empty()) {
        append_comment(out, r.name + " IN PTR " + r.value);
      }
      out += '\n';
      continue;
    }
    out += r.name + " IN " + r.type + " ";
    if (r.type == "TXT") {
      std::vector<std::string> parts = split_txt(r.value);
      if (parts.size() > 1) {
        out += "(";
        for (const std::string& p : parts) {
          out += " ";
          base::append_quoted(out, p);  // RFC 1035 §5.1
        }
        out += " )";
      } else {
        base::append_quoted(out, parts[0]);
      }
    } else {
      out += r.value;
    }
    out += "\n\n";
  }
  return out;
}

std::string to_json(const std::vector<DnsRecord>& records) {
  std::string out = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    const DnsRecord& r = records[i];
    out += i == 0 ? "\n" : ",\n";
    out += "  {\"name\": ";
    append_json_string(out, r.name);
    out += ", \"type\": ";
    append_json_string(out, r.type);
    out += ", \"value\": ";
    append_json_string(out, r.value);
    out += ", \"note\": ";
    append_json_string(out, r.note);
    out += "}";
  }
  out += records.empty() ? "]\n" : "\n]\n";
  return out;
}

}  // namespace hk::util
