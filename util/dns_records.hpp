// The DNS records a mail domain publishes for this server (MX, A/AAAA, SPF, DKIM, DMARC, TLS-RPT,
// on request MTA-STS and DANE TLSA, and the PTR to request), generated purely from plain inputs,
// and printed as a zone-file fragment or as JSON; and the TLS-RPT record check of check-dns.
// Everything printed as a record can be published as it is and passes check-dns; what needs more
// than DNS (the MTA-STS policy's web server) is printed only when asked for.
#pragma once

#include <string>
#include <vector>

#include "lib/dns_check/tlsrpt.hpp"

namespace hk::util {

struct DkimTxt {
  std::string selector;
  std::string value;  // "v=DKIM1; k=rsa; p=..." (dkim::dns_txt_value)
};

struct TlsaLine {
  std::string folder;  // the certificate folder under CONFIG_DIR/certs
  std::string value;   // "3 1 1 <hex>" (tlsa_text)
};

struct RecordsInput {
  std::string domain;    // "example.com", lower case, no trailing dot
  std::string hostname;  // this server, "mx.example.com"
  std::string ip4;       // "" when unknown
  std::string ip6;       // "" when unknown
  std::vector<DkimTxt> dkim;
  std::string dmarc_policy = "quarantine";  // none | quarantine | reject (RFC 7489 §6.3)
  std::string rua;     // DMARC rua address; "" = postmaster@DOMAIN (TLS-RPT always uses that)
  std::string sts_id;  // MTA-STS id (RFC 8461 §3.1), e.g. "20261123174500"
  // MTA-STS needs an HTTPS server for its policy (RFC 8461 §3.3), which hikyaku is not: its
  // records come only on request (dns-records --mta-sts), with the host record and the policy.
  bool mta_sts = false;
  // DANE-EE records of the live certificates (dns-records --dane); empty: none printed.
  std::vector<TlsaLine> tlsa;
};

// One entry. `type` is "MX", "A", "AAAA", "TXT", "TLSA" or "PTR". An entry with an empty `value` is
// a placeholder the administrator must fill in; a PTR entry is not published in the domain's zone
// but asked of whoever owns the address. `note` says what the record is for (may hold newlines).
struct DnsRecord {
  std::string name;  // absolute, with the trailing dot
  std::string type;
  std::string value;  // MX: "10 host."; TXT: the unquoted, unsplit text
  std::string note;

  bool operator==(const DnsRecord&) const = default;
};

std::vector<DnsRecord> records_for(const RecordsInput& in);

// The TLS-RPT record check lives with check-dns in lib/dns_check; the names stay usable here.
using dns_check::check_tlsrpt;
using dns_check::TlsRptCheck;

// A zone-file fragment: each note as "; " comment lines, then `NAME IN TYPE VALUE`; TXT values
// quoted and split into character-strings of at most 255 octets (RFC 1035 §3.3.14), wrapped in
// parentheses when there are several. Placeholders and PTR entries are printed as comments.
std::string to_zone(const std::vector<DnsRecord>& records);

// `[{"name": ..., "type": ..., "value": ..., "note": ...}, ...]` (RFC 8259 string escaping).
std::string to_json(const std::vector<DnsRecord>& records);

// The character-strings of a TXT value: at most 255 octets each (RFC 1035 §3.3).
std::vector<std::string> split_txt(const std::string& value);

// "2.0.0.127.in-addr.arpa." or the ip6.arpa name (RFC 1035 §3.5, RFC 3596 §2.5); "" when `ip`
// is not an address.
std::string reverse_name(const std::string& ip);

}  // namespace hk::util
