// Trace headers hikyaku adds to a message it accepts: Received (RFC 5321 §4.4) and the date format
// of RFC 5322 §3.3 they use.
#pragma once

#include <ctime>
#include <string>

namespace hk::server {

struct TraceInfo {
  std::string helo;       // what the client said in EHLO/HELO
  std::string client_ip;  // literal address
  std::string hostname;   // our name
  std::string id;         // queue id
  std::string for_rcpt;   // the one recipient, or empty when there are several (privacy)
  bool esmtp = true;
  bool tls = false;
  bool authenticated = false;
  std::string tls_version;  // "TLSv1.3"
  std::string tls_cipher;
};

// The whole "Received: ...\r\n" header, folded under 78 columns. The protocol keyword follows
// RFC 3848 (ESMTP, ESMTPS, ESMTPA, ESMTPSA).
std::string received_header(const TraceInfo& info, std::time_t now);

}  // namespace hk::server
