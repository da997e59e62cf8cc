// The TLS-RPT record check of check-dns (RFC 8460 §3): pure, strings in, a verdict out.
#pragma once

#include <string>
#include <vector>

namespace hk::dns_check {

// The TLS-RPT policy (RFC 8460 §3) found among the TXT records at _smtp._tls.DOMAIN: `problem`
// is empty when exactly one record starts with "v=TLSRPTv1" and it is well formed (the version
// first, a rua= field of comma-separated mailto: or https: URIs); `record` is that record.
// `present` is false when no record starts with the version (TLS-RPT is optional).
struct TlsRptCheck {
  bool present = false;
  std::string record;
  std::string problem;
};
TlsRptCheck check_tlsrpt(const std::vector<std::string>& txt_records);

}  // namespace hk::dns_check
