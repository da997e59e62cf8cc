// libFuzzer target: SPF records from DNS TXT answers (RFC 7208 §4.5, §5, §6, §12) and their
// macro-strings (§7), expanded for an IPv4 and an IPv6 client. Invariants: a record that parses
// prints back (qualifier, mechanism text, modifiers) to a record that parses the same; each
// mechanism's CIDR lengths and address family fit its kind; every domain-spec in it is a valid
// macro-string; expansion succeeds exactly for valid macro-strings, a domain-spec's expansion
// fits 253 octets unless it is one label, and a string without "%" expands to itself.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "lib/spf/macro.hpp"
#include "lib/spf/record.hpp"

namespace {

namespace spf = hk::spf;

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

const spf::MacroContext& context(bool v6) {
  static const spf::MacroContext v4ctx{"strong-bad@email.example.com",
                                       "email.example.com",
                                       boost::asio::ip::make_address("192.0.2.3"),
                                       "mx.example.org",
                                       "mx.example.org",
                                       "mail.example.net",
                                       1700000000};
  static const spf::MacroContext v6ctx{"",
                                       "example.org",
                                       boost::asio::ip::make_address("2001:db8::cb01"),
                                       "helo.example.org",
                                       "",
                                       "",
                                       0};
  return v6 ? v6ctx : v4ctx;
}

void check_macros(std::string_view s) {
  bool domain_ok = spf::valid_macro_string(s, spf::MacroMode::DomainSpec);
  bool exp_ok = spf::valid_macro_string(s, spf::MacroMode::Explanation);
  check(!domain_ok || exp_ok);  // explanation text allows more letters, and spaces
  for (bool v6 : {false, true}) {
    std::optional<std::string> d = spf::expand_macros(s, context(v6), spf::MacroMode::DomainSpec);
    check(d.has_value() == domain_ok);
    if (d) {
      check(d->size() <= 253 || d->find('.') == std::string::npos);
      if (s.find('%') == std::string_view::npos && s.size() <= 253) {
        check(*d == s);
      }
    }
    std::optional<std::string> e = spf::expand_macros(s, context(v6), spf::MacroMode::Explanation);
    check(e.has_value() == exp_ok);
    if (e && s.find('%') == std::string_view::npos) {
      check(*e == s);
    }
  }
  (void)spf::uses_p_macro(s);
}

char qualifier_char(spf::Qualifier q) {
  switch (q) {
    case spf::Qualifier::Pass:
      return '+';
    case spf::Qualifier::Fail:
      return '-';
    case spf::Qualifier::SoftFail:
      return '~';
    case spf::Qualifier::Neutral:
      return '?';
  }
  std::abort();
}

bool same(const spf::Mechanism& a, const spf::Mechanism& b) {
  return a.qualifier == b.qualifier && a.kind == b.kind && a.text == b.text &&
         a.domain_spec == b.domain_spec && a.cidr4 == b.cidr4 && a.cidr6 == b.cidr6 &&
         a.network == b.network;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_macros(in);

  spf::ParsedRecord p = spf::parse_record(in);
  if (!p.error.empty()) {
    return 0;
  }
  check(spf::is_spf_record(in));
  const spf::Record& r = p.record;
  std::string printed = "v=spf1";
  for (const spf::Mechanism& m : r.mechanisms) {
    check(!m.text.empty());
    check(m.cidr4 >= 0 && m.cidr4 <= 32 && m.cidr6 >= 0 && m.cidr6 <= 128);
    if (m.kind == spf::MechanismKind::Ip4) {
      check(m.network.is_v4());
    } else if (m.kind == spf::MechanismKind::Ip6) {
      check(m.network.is_v6());
    }
    if (!m.domain_spec.empty()) {
      check(spf::valid_macro_string(m.domain_spec, spf::MacroMode::DomainSpec));
      check_macros(m.domain_spec);
    }
    printed += ' ';
    printed += qualifier_char(m.qualifier);
    printed += m.text;
  }
  if (r.has_redirect) {
    check(spf::valid_macro_string(r.redirect, spf::MacroMode::DomainSpec));
    printed += " redirect=" + r.redirect;
  }
  if (r.has_exp) {
    check(spf::valid_macro_string(r.exp, spf::MacroMode::DomainSpec));
    printed += " exp=" + r.exp;
  }
  spf::ParsedRecord again = spf::parse_record(printed);
  check(again.error.empty());
  check(again.record.mechanisms.size() == r.mechanisms.size());
  for (size_t i = 0; i < r.mechanisms.size(); ++i) {
    check(same(again.record.mechanisms[i], r.mechanisms[i]));
  }
  check(again.record.has_redirect == r.has_redirect && again.record.redirect == r.redirect);
  check(again.record.has_exp == r.has_exp && again.record.exp == r.exp);
  return 0;
}
