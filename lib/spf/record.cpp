// SPF record parser (RFC 7208 §4.5, §4.6, §5, §6, §12).
#include "lib/spf/record.hpp"

#include "lib/base/ascii.hpp"
#include "lib/spf/macro.hpp"

namespace hk::spf {

namespace {

using base::iequals;
using base::is_alnum;

// §7.1 toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view l) {
  if (l.empty() || !is_alnum(l.front()) || !is_alnum(l.back())) {
    return false;
  }
  bool alpha = false;
  bool dash = false;
  for (char c : l) {
    if (c == '-') {
      dash = true;
    } else if (!is_alnum(c)) {
      return false;
    } else if (base::is_alpha(c)) {
      alpha = true;
    }
  }
  return alpha || dash;
}

// §7.1 domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) /
// macro-expand.
bool valid_domain_spec(std::string_view s) {
  if (s.empty() || !valid_macro_string(s, MacroMode::DomainSpec)) {
    return false;
  }
  if (s.back() == '}') {
    // Ends with a macro-expand: make sure the "}" closes a "%{" and is not a literal.
    auto open = s.rfind("%{");
    if (open != std::string_view::npos && s.find('}', open) == s.size() - 1) {
      return true;
    }
  }
  std::string_view t = s;
  if (t.back() == '.') {
    t.remove_suffix(1);
  }
  auto dot = t.rfind('.');
  if (dot == std::string_view::npos) {
    return false;
  }
  return is_toplabel(t.substr(dot + 1));
}

// The "[ ":" domain-spec ]" that a, mx and ptr may carry (RFC 7208 §5.3, §5.4, §5.5): nothing, or
// a colon and a valid domain-spec, kept in m.domain_spec. False for anything else.
bool optional_domain_spec(std::string_view rest, Mechanism& m) {
  if (rest.empty()) {
    return true;
  }
  if (rest[0] != ':' || !valid_domain_spec(rest.substr(1))) {
    return false;
  }
  m.domain_spec = std::string(rest.substr(1));
  return true;
}

// Reads "/N" with N in 0..max and no leading zero (§12 ip4-cidr-length, ip6-cidr-length).
bool parse_cidr(std::string_view digits, int max, int& out) {
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
    return false;
  }
  int v = 0;
  for (char c : digits) {
    if (!base::is_digit(c)) {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  if (v > max) {
    return false;
  }
  out = v;
  return true;
}

// Splits a trailing dual-cidr-length ("/24", "//64", "/24//64") off `arg`.
bool split_dual_cidr(std::string_view& arg, Mechanism& m) {
  auto dd = arg.rfind("//");
  if (dd != std::string_view::npos) {
    if (!parse_cidr(arg.substr(dd + 2), 128, m.cidr6)) {
      return false;
    }
    arg = arg.substr(0, dd);
  }
  auto sl = arg.rfind('/');
  if (sl != std::string_view::npos) {
    auto digits = arg.substr(sl + 1);
    bool numeric = !digits.empty();
    for (char c : digits) {
      numeric = numeric && base::is_digit(c);
    }
    if (numeric || dd != std::string_view::npos || sl + 1 == arg.size()) {
      if (!parse_cidr(digits, 32, m.cidr4)) {
        return false;
      }
      arg = arg.substr(0, sl);
    }
  }
  return true;
}

// The mechanism names of §5 and whether they take a domain-spec.
struct Known {
  std::string_view name;
  MechanismKind kind;
};
constexpr Known kMechanisms[] = {
    {"all", MechanismKind::All}, {"include", MechanismKind::Include}, {"a", MechanismKind::A},
    {"mx", MechanismKind::Mx},   {"ptr", MechanismKind::Ptr},         {"ip4", MechanismKind::Ip4},
    {"ip6", MechanismKind::Ip6}, {"exists", MechanismKind::Exists},
};

// Parses one directive; returns an error message or "".
std::string parse_directive(std::string_view term, Mechanism& m) {
  m.text = std::string(term);
  switch (term.empty() ? '\0' : term[0]) {
    case '+':
      m.qualifier = Qualifier::Pass;
      term.remove_prefix(1);
      break;
    case '-':
      m.qualifier = Qualifier::Fail;
      term.remove_prefix(1);
      break;
    case '~':
      m.qualifier = Qualifier::SoftFail;
      term.remove_prefix(1);
      break;
    case '?':
      m.qualifier = Qualifier::Neutral;
      term.remove_prefix(1);
      break;
    default:
      break;
  }
  m.text = std::string(term);
  auto name_end = term.find_first_of(":/");
  std::string_view name = term.substr(0, name_end);
  std::string_view rest = name_end == std::string_view::npos ? "" : term.substr(name_end);
  bool found = false;
  for (const Known& k : kMechanisms) {
    if (iequals(name, k.name)) {
      m.kind = k.kind;
      found = true;
    }
  }
  if (!found) {
    return "unknown mechanism '" + std::string(term) + "'";
  }
  std::string bad = "invalid mechanism '" + std::string(term) + "'";
  switch (m.kind) {
    case MechanismKind::All:
      return rest.empty() ? "" : bad;
    case MechanismKind::Include:
    case MechanismKind::Exists:
      if (rest.size() < 2 || rest[0] != ':' || !valid_domain_spec(rest.substr(1))) {
        return bad;
      }
      m.domain_spec = std::string(rest.substr(1));
      return "";
    case MechanismKind::Ptr:
      return optional_domain_spec(rest, m) ? "" : bad;
    case MechanismKind::A:
    case MechanismKind::Mx: {
      if (!split_dual_cidr(rest, m)) {
        return bad;
      }
      return optional_domain_spec(rest, m) ? "" : bad;
    }
    case MechanismKind::Ip4:
    case MechanismKind::Ip6: {
      if (rest.empty() || rest[0] != ':') {
        return bad;
      }
      rest.remove_prefix(1);
      bool v4 = m.kind == MechanismKind::Ip4;
      auto sl = rest.find('/');
      if (sl != std::string_view::npos) {
        if (!parse_cidr(rest.substr(sl + 1), v4 ? 32 : 128, v4 ? m.cidr4 : m.cidr6)) {
          return bad;
        }
        rest = rest.substr(0, sl);
      }
      boost::system::error_code ec;
      if (v4) {
        m.network = boost::asio::ip::make_address_v4(std::string(rest), ec);
      } else {
        m.network = boost::asio::ip::make_address_v6(std::string(rest), ec);
      }
      return ec ? bad : "";
    }
  }
  return bad;
}

// §12 name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool is_modifier_name(std::string_view n) {
  if (n.empty() || !base::is_alpha(n[0])) {
    return false;
  }
  for (char c : n) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  return txt.size() >= 6 && iequals(txt.substr(0, 6), "v=spf1") &&
         (txt.size() == 6 || txt[6] == ' ');
}

ParsedRecord parse_record(std::string_view txt) {
  ParsedRecord out;
  if (!is_spf_record(txt)) {
    out.error = "not an SPF record";
    return out;
  }
  txt.remove_prefix(6);
  std::size_t i = 0;
  while (i < txt.size()) {
    if (txt[i] == ' ') {
      ++i;
      continue;
    }
    auto end = txt.find(' ', i);
    std::string_view term = txt.substr(i, end == std::string_view::npos ? txt.size() - i : end - i);
    i = end == std::string_view::npos ? txt.size() : end;
    auto eq = term.find('=');
    if (eq != std::string_view::npos && is_modifier_name(term.substr(0, eq))) {
      std::string_view name = term.substr(0, eq);
      std::string_view value = term.substr(eq + 1);
      if (iequals(name, "redirect") || iequals(name, "exp")) {
        bool redirect = iequals(name, "redirect");
        bool& seen = redirect ? out.record.has_redirect : out.record.has_exp;
        if (seen) {
          out.error = "duplicate " + std::string(name) + " modifier";  // §6: at most once
          return out;
        }
        if (!valid_domain_spec(value)) {
          out.error = "invalid " + std::string(term);
          return out;
        }
        seen = true;
        (redirect ? out.record.redirect : out.record.exp) = std::string(value);
      } else if (!valid_macro_string(value, MacroMode::DomainSpec)) {
        // §6: unknown modifiers are ignored, but must still be syntactically valid.
        out.error = "invalid modifier " + std::string(term);
        return out;
      }
      continue;
    }
    Mechanism m;
    std::string err = parse_directive(term, m);
    if (!err.empty()) {
      out.error = err;
      return out;
    }
    out.record.mechanisms.push_back(std::move(m));
  }
  return out;
}

}  // namespace hk::spf
