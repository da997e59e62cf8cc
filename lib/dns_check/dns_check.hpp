// check-dns's core, shared by `hikyaku-util check-dns` and the console's DNS page: queries the
// live DNS through any dns::Lookup and compares MX, A/AAAA, PTR, SPF, DKIM, DMARC, MTA-STS (the
// policy fetched when published), TLS-RPT and, on request, DANE TLSA with this server, one row
// per record. The callers only print or render the rows.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "lib/dns/lookup.hpp"
#include "lib/dns_check/tlsa.hpp"

namespace hk::dns_check {

struct Row {
  std::string what;
  std::string status;  // "ok", "MISSING", "DIFFERS", "none"
  std::string detail;
};

// A local DKIM key: its selector and public key (the p= value, base64).
struct DkimPublic {
  std::string selector;
  std::string value;
};

struct CheckInput {
  std::string domain;
  std::string hostname;
  std::vector<DkimPublic> dkim;  // value = the local p=
  bool dane = false;
  std::vector<LiveChain> chains;  // with dane: the live certificates
};

boost::asio::awaitable<std::vector<Row>> run_checks(dns::Lookup& dns, CheckInput in);

// "ok" and "none" (an optional record not published) need nothing done.
bool row_ok(const Row& row);

}  // namespace hk::dns_check
