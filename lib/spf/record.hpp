// SPF record syntax (RFC 7208 §4.5, §5, §6, §12): selecting the v=spf1 record and parsing it
// into mechanisms and modifiers.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hk::spf {

// §4.6.2: the qualifier in front of a mechanism; "+" when absent.
enum class Qualifier { Pass, Fail, SoftFail, Neutral };

enum class MechanismKind { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

struct Mechanism {
  Qualifier qualifier = Qualifier::Pass;
  MechanismKind kind = MechanismKind::All;
  std::string text;         // the term as written, without the qualifier: "ip4:192.0.2.0/24"
  std::string domain_spec;  // include, a, mx, ptr, exists; empty: the current domain
  int cidr4 = 32;           // a, mx, ip4 (§5.6)
  int cidr6 = 128;          // a, mx, ip6
  boost::asio::ip::address network;  // ip4, ip6
};

struct Record {
  std::vector<Mechanism> mechanisms;
  bool has_redirect = false;
  std::string redirect;  // domain-spec of redirect= (§6.1)
  bool has_exp = false;
  std::string exp;  // domain-spec of exp= (§6.2)
};

struct ParsedRecord {
  Record record;
  std::string error;  // empty on success; otherwise why the record is a permerror
};

// True when `txt` is an SPF record: "v=spf1", case-insensitive, then a space or the end (§4.5).
bool is_spf_record(std::string_view txt);

// Parses a whole record (version included). Any syntax error anywhere makes it a permerror
// (§4.6): nothing of a broken record is evaluated.
ParsedRecord parse_record(std::string_view txt);

}  // namespace hk::spf
