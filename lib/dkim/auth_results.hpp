// The Authentication-Results header field (RFC 8601) that records our DKIM and SPF results on
// inbound mail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/dkim/verify.hpp"

namespace hk::dkim {

// The whole field, folded and ending in CRLF:
//   "Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=example.org
//    header.s=sel;\r\n\tspf=pass smtp.mailfrom=a@example.org\r\n"
// One "dkim=" resinfo per result (RFC 8601 §2.7.1) with header.d and header.s when known and the
// detail as a comment; the "spf=" resinfo (§2.7.2) is left out when `spf_result` is empty. When
// there is no result at all the field says "none" (§2.2). Control characters and characters that
// would break the syntax are dropped from every input.
std::string authentication_results(const std::string& authserv_id,
                                   const std::vector<DkimVerifyResult>& dkim,
                                   std::string_view spf_result, std::string_view spf_mailfrom);

}  // namespace hk::dkim
