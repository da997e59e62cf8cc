// libFuzzer target: a DNS response from the network, as every lookup of the Resolver reads it —
// c-ares' MX, A, AAAA, TXT and PTR parsers with what lib/dns/response.cpp makes of their results,
// wire.cpp's TTLs (RFC 1035 §4.1, RFC 2308 §5) and TLSA records (RFC 6698 §2.1), and the MX plan
// of delivery. Invariants: TTLs never exceed 2^31-1 (RFC 2181 §8); a failed answer holds no
// record; TLSA records found are re-encoded into a fresh response and read back the same; an MX
// plan to use exchangers lists each host once and never the null MX.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "lib/dns/mx.hpp"
#include "lib/dns/response.hpp"
#include "lib/dns/wire.hpp"

namespace {

namespace dns = hk::dns;

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

constexpr std::uint32_t kMaxTtl = 0x7FFFFFFF;

template <class T>
void check_answer(const dns::Answer<T>& a) {
  check(a.ttl <= kMaxTtl);
  check(!a.ec || a.records.empty());
}

void put16(std::vector<unsigned char>& out, std::size_t v) {
  out.push_back(static_cast<unsigned char>((v >> 8) & 0xFF));
  out.push_back(static_cast<unsigned char>(v & 0xFF));
}

// A response to "x. IN TLSA" answering `records`, each with a TTL of 300 and a compressed owner.
std::vector<unsigned char> encode_tlsa(const std::vector<dns::TlsaRecord>& records) {
  std::vector<unsigned char> out = {0x12, 0x34, 0x81, 0x80, 0, 1};
  put16(out, records.size());
  out.insert(out.end(), {0, 0, 0, 0, 1, 'x', 0, 0, 52, 0, 1});
  for (const dns::TlsaRecord& r : records) {
    out.insert(out.end(), {0xC0, 0x0C, 0, 52, 0, 1, 0, 0, 0x01, 0x2C});
    put16(out, 3 + r.data.size());
    out.insert(out.end(), {r.usage, r.selector, r.matching_type});
    out.insert(out.end(), r.data.begin(), r.data.end());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size heap copy: reads past the response's end show in ASan.
  std::vector<unsigned char> copy(data, data + size);
  std::span<const unsigned char> msg(copy.data(), copy.size());

  std::optional<std::uint32_t> ttl = dns::answer_ttl(msg);
  check(!ttl || *ttl <= kMaxTtl);
  std::optional<std::uint32_t> neg = dns::negative_ttl(msg);
  check(!neg || *neg <= kMaxTtl);

  dns::Answer<dns::MxRecord> mx = dns::parse_mx_response(msg);
  check_answer(mx);
  if (!mx.ec) {
    check(mx.ttl == ttl.value_or(0));
  }
  std::mt19937 rng(1);
  dns::MxTargets targets = dns::mx_targets(mx, "example.org", rng);
  if (targets.plan == dns::MxPlan::UseMx) {
    check(!targets.hosts.empty());
    std::set<std::string> seen;
    for (const std::string& h : targets.hosts) {
      check(!h.empty() && h != ".");
      check(seen.insert(h).second);
    }
  } else if (targets.plan == dns::MxPlan::ImplicitMx) {
    check(targets.hosts.size() == 1 && targets.hosts[0] == "example.org");
  } else {
    check(targets.hosts.empty());
  }

  dns::Answer<boost::asio::ip::address> a = dns::parse_a_response(msg);
  check_answer(a);
  for (const boost::asio::ip::address& addr : a.records) {
    check(addr.is_v4());
  }
  dns::Answer<boost::asio::ip::address> aaaa = dns::parse_aaaa_response(msg);
  check_answer(aaaa);
  for (const boost::asio::ip::address& addr : aaaa.records) {
    check(addr.is_v6());
  }

  dns::Answer<std::string> txt = dns::parse_txt_response(msg);
  check_answer(txt);
  for (const auto* addr : {"192.0.2.1", "2001:db8::1"}) {
    dns::Answer<std::string> ptr =
        dns::parse_ptr_response(msg, boost::asio::ip::make_address(addr));
    check_answer(ptr);
    std::set<std::string> seen;
    for (const std::string& name : ptr.records) {
      check(seen.insert(name).second);
    }
  }

  std::optional<std::vector<dns::TlsaRecord>> tlsa = dns::tlsa_records(msg);
  dns::Answer<dns::TlsaRecord> tlsa_answer = dns::parse_tlsa_response(msg);
  check_answer(tlsa_answer);
  check(tlsa_answer.ec || (tlsa && tlsa_answer.records == *tlsa));
  if (tlsa && !tlsa->empty()) {
    check(ttl.has_value());  // the records came from an answer section that parsed whole
    std::vector<unsigned char> again = encode_tlsa(*tlsa);
    std::optional<std::vector<dns::TlsaRecord>> back = dns::tlsa_records(again);
    check(back && *back == *tlsa);
    check(dns::answer_ttl(again) == 300u);
  }
  return 0;
}
