// check_host() of RFC 7208 §4: the SPF verdict for a client IP and a sender domain, and the
// Received-SPF header field (§9.1) that records it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

#include "lib/dns/lookup.hpp"

namespace hk::spf {

// §2.6
enum class Result { None, Neutral, Pass, Fail, SoftFail, TempError, PermError };

// "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror" (§2.6).
std::string_view to_string(Result r);

struct Outcome {
  Result result = Result::None;
  std::string mechanism;    // the matching mechanism, e.g. "ip4:192.0.2.0/24", or "default"
  std::string explanation;  // expanded exp= text for fail (§6.2); empty when there is none
  std::string problem;      // why the result is permerror, temperror or none
};

// §4.1: `ip` is the client, `domain` the domain to check (that of MAIL FROM, or HELO),
// `sender` the full MAIL FROM ("postmaster@<helo>" when it is empty), `helo` the HELO/EHLO
// name, `receiver` this host's name for the %{r} macro. Never throws on remote input. `dns` answers
// the TXT, A, AAAA, MX and PTR queries: NxDomain and NoData are "void" answers (§4.6.4), the
// other dns::Errors are the DNS errors of §4.4 and §5 (a temperror, except in a PTR lookup).
boost::asio::awaitable<Outcome> check_host(dns::Lookup& dns, boost::asio::ip::address ip,
                                           std::string domain, std::string sender, std::string helo,
                                           std::string receiver = "unknown");

// The value of a Received-SPF header field (§9.1), e.g.
// `pass (hikyaku: domain of a@example.com designates 192.0.2.1 as permitted sender)
//  client-ip=192.0.2.1; envelope-from="a@example.com"; helo=mx.example.com; receiver=mx.local;`
std::string received_spf(const Outcome& outcome, const boost::asio::ip::address& ip,
                         std::string_view envelope_from, std::string_view helo,
                         std::string_view receiver);

}  // namespace hk::spf
