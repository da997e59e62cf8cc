// Answer types of the DNS lookups: what every dns::Lookup returns, CachingResolver keeps and MX
// selection reads.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace hk::dns {

// The record types hikyaku asks for (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 6698 §7.1).
enum class RecordType : std::uint16_t { A = 1, Ptr = 12, Mx = 15, Txt = 16, Aaaa = 28, Tlsa = 52 };

// One MX record (RFC 1035 §3.3.9). A host of "" or "." is the null MX of RFC 7505.
struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;

  bool operator==(const MxRecord&) const = default;
};

// One TLSA record (RFC 6698 §2.1), as published. The fields are not checked against the values
// RFC 6698 assigns: telling usable records from unusable ones (§4.1) is the DANE client's job.
struct TlsaRecord {
  std::uint8_t usage = 0;           // §2.1.1: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  std::uint8_t selector = 0;        // §2.1.2: 0 whole certificate, 1 SubjectPublicKeyInfo
  std::uint8_t matching_type = 0;   // §2.1.3: 0 exact, 1 SHA-256, 2 SHA-512
  std::vector<unsigned char> data;  // §2.1.4: the certificate association data

  bool operator==(const TlsaRecord&) const = default;
};

// The outcome of one lookup. On success `ec` is clear and `records` holds at least one record.
// `ttl` is how long, in seconds, the answer may be kept: the smallest TTL in the answer section
// for a positive answer, the RFC 2308 §5 negative TTL for NXDOMAIN and NODATA (0 when the server
// sent no SOA, so that it is not cached), and 0 for every other failure.
// `authenticated` is the AD bit of the response (RFC 4035 §3.2.3): the resolver validated the
// answer with DNSSEC, positive or negative. It means something only when the resolver is a
// validating one that we trust and reach over a trusted path (RFC 7672 §8: the operator's
// `[dns] servers`, on the host or its network), which is why only DANE looks at it.
template <class T>
struct Answer {
  boost::system::error_code ec;
  std::vector<T> records;
  std::uint32_t ttl = 0;
  bool authenticated = false;
};

}  // namespace hk::dns
