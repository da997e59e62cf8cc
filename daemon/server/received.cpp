// Received header construction.
#include "daemon/server/received.hpp"

#include <chrono>

#include "lib/base/date.hpp"

namespace hk::server {

std::string received_header(const TraceInfo& info, std::time_t now) {
  std::string proto = info.esmtp ? "ESMTP" : "SMTP";
  if (info.esmtp && info.tls) {
    proto += 'S';
  }
  if (info.esmtp && info.authenticated) {
    proto += 'A';
  }
  // The HELO name is client-supplied: keep only printable characters that cannot break the header.
  std::string helo;
  for (char c : info.helo) {
    if (c > ' ' && c < 0x7f && c != '(' && c != ')' && c != ';') {
      helo += c;
    }
  }
  if (helo.empty()) {
    helo = "unknown";
  }
  std::string out = "Received: from " + helo + " ([" + info.client_ip + "])\r\n\tby " +
                    info.hostname + " (hikyaku) with " + proto;
  if (info.tls) {
    out += "\r\n\t(" + info.tls_version + " cipher=" + info.tls_cipher + ")";
  }
  out += "\r\n\tid " + info.id;
  if (!info.for_rcpt.empty()) {
    out += "\r\n\tfor <" + info.for_rcpt + ">";
  }
  out += ";\r\n\t" + base::rfc5322_date(std::chrono::system_clock::from_time_t(now)) + "\r\n";
  return out;
}

}  // namespace hk::server
