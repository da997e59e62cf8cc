// The DNS records a mail domain publishes for this server (MX, A/AAAA, SPF, DKIM, DMARC, MTA-STS,
// TLS-RPT, and the PTR to request), generated purely from plain inputs, and printed as a zone-file
// fragment or as JSON.
#pragma once

#include <string>
#include <vector>

namespace hk::util {

struct DkimTxt {
  std::string selector;
  std::string value;  // "v=DKIM1; k=rsa; p=..." (dkim::dns_txt_value)
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
};

// One entry. `type` is "MX", "A", "AAAA", "TXT" or "PTR". An entry with an empty `value` is a
// placeholder the administrator must fill in; a PTR entry is not published in the domain's zone
// but asked of whoever owns the address. `note` says what the record is for (may hold newlines).
struct DnsRecord {
  std::string name;  // absolute, with the trailing dot
  std::string type;
  std::string value;  // MX: "10 host."; TXT: the unquoted, unsplit text
  std::string note;

  bool operator==(const DnsRecord&) const = default;
};

std::vector<DnsRecord> records_for(const RecordsInput& in);

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
