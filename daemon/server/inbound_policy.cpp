// The inbound policy decisions.
#include "daemon/server/inbound_policy.hpp"

namespace hk::server {

bool auth_offered(const ClientStanding& c, bool allow_plain_auth_from_trusted) {
  if (c.port == Port::Smtp) {
    return false;
  }
  if (c.tls) {
    return true;
  }
  return allow_plain_auth_from_trusted && c.trusted && c.loopback;
}

bool auth_required(const ClientStanding& c) {
  return c.port != Port::Smtp && !c.authenticated && !c.trusted;
}

bool may_relay(const ClientStanding& c) { return c.authenticated || c.trusted; }

std::vector<std::string> ehlo_keywords(const ClientStanding& c, uint64_t max_message_size,
                                       bool have_certificate, bool allow_plain_auth_from_trusted) {
  std::vector<std::string> out = {
      "SIZE " + std::to_string(max_message_size),  // RFC 1870
      "8BITMIME",                                  // RFC 6152
      "PIPELINING",                                // RFC 2920
      "SMTPUTF8",                                  // RFC 6531
      "ENHANCEDSTATUSCODES",                       // RFC 2034
  };
  if (!c.tls && have_certificate) {
    out.push_back("STARTTLS");  // RFC 3207
  }
  if (c.tls) {
    // RFC 8689 §2/§4.1: only on a TLS session. We can honour it on every port: the queue keeps
    // the flag and the remote courier delivers such mail only over verified TLS to servers that
    // offer REQUIRETLS (docs/requiretls.md); local delivery ends the journey.
    out.push_back("REQUIRETLS");
  }
  if (auth_offered(c, allow_plain_auth_from_trusted) && !c.authenticated) {
    out.push_back("AUTH PLAIN LOGIN");  // RFC 4954
  }
  return out;
}

bool should_check_spf(const ClientStanding& c, bool have_dns) {
  return c.port == Port::Smtp && !c.authenticated && !c.trusted && have_dns;
}

bool should_verify_dkim(const ClientStanding& c, bool have_dns) {
  return c.port == Port::Smtp && !c.authenticated && !c.trusted && have_dns;
}

}  // namespace hk::server
