// The SPF evaluator: record lookup and selection (§4.4, §4.5), mechanisms (§5), modifiers (§6),
// processing limits (§4.6.4).
#include "lib/spf/check_host.hpp"

#include <ctime>
#include <optional>

#include "lib/base/ascii.hpp"
#include "lib/base/domain_name.hpp"
#include "lib/base/quote.hpp"
#include "lib/dns/error.hpp"
#include "lib/spf/macro.hpp"
#include "lib/spf/record.hpp"

namespace hk::spf {

namespace asio = boost::asio;

namespace {

// §4.6.4: at most 10 terms that cause DNS queries per check_host() evaluation, including
// nested include and redirect.
constexpr int kMaxLookups = 10;
// §4.6.4: at most 2 "void" lookups (NXDOMAIN or no answer).
constexpr int kMaxVoidLookups = 2;
// §4.6.4: the mx and ptr mechanisms look at no more than 10 names each.
constexpr std::size_t kMaxNamesPerMechanism = 10;

struct Eval {
  dns::Lookup& dns;
  asio::ip::address ip;
  std::string sender;
  std::string helo;
  std::string receiver;
  int lookups = 0;
  int voids = 0;
  bool validated_done = false;
  std::string validated;
};

// The values macros expand to (RFC 7208 §7.2) for `domain` in this evaluation.
MacroContext macro_context(const Eval& ev, const std::string& domain) {
  MacroContext ctx;
  ctx.sender = ev.sender;
  ctx.domain = domain;
  ctx.ip = ev.ip;
  ctx.helo = ev.helo;
  ctx.validated = ev.validated;
  ctx.receiver = ev.receiver;
  ctx.timestamp = static_cast<long long>(std::time(nullptr));
  return ctx;
}

enum class Match { Yes, No, TempError, PermError };

struct MatchOutcome {
  Match match = Match::No;
  std::string problem;
};

bool is_void(const boost::system::error_code& ec) {
  return ec == dns::Error::NxDomain || ec == dns::Error::NoData;
}

std::string lower(std::string s) {
  base::lower_in_place(s);
  return s;
}

std::string strip_dot(std::string s) {
  if (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return s;
}

// §4.3: a multi-label domain name with no empty or over-long label (RFC 1035 §2.3.4).
bool valid_domain(std::string_view d) {
  return base::is_domain_name(
      d, {.chars = base::LabelChars::Any, .trailing_dot = true, .min_labels = 2});
}

bool in_prefix(const asio::ip::address& ip, const asio::ip::address& net, int len) {
  if (ip.is_v4() != net.is_v4()) {
    return false;
  }
  auto cmp = [len](const auto& a, const auto& b) {
    int bits = len;
    for (std::size_t i = 0; i < a.size() && bits > 0; ++i, bits -= 8) {
      unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
      if ((a[i] & mask) != (b[i] & mask)) {
        return false;
      }
    }
    return true;
  };
  if (ip.is_v4()) {
    return cmp(ip.to_v4().to_bytes(), net.to_v4().to_bytes());
  }
  return cmp(ip.to_v6().to_bytes(), net.to_v6().to_bytes());
}

Result from_qualifier(Qualifier q) {
  switch (q) {
    case Qualifier::Pass:
      return Result::Pass;
    case Qualifier::Fail:
      return Result::Fail;
    case Qualifier::SoftFail:
      return Result::SoftFail;
    case Qualifier::Neutral:
      return Result::Neutral;
  }
  return Result::Neutral;
}

Outcome make(Result r, std::string problem) {
  Outcome o;
  o.result = r;
  o.problem = std::move(problem);
  return o;
}

asio::awaitable<dns::Answer<asio::ip::address>> addresses(dns::Lookup& dns, std::string name,
                                                          bool v4) {
  if (v4) {
    co_return co_await dns.a(std::move(name));
  }
  co_return co_await dns.aaaa(std::move(name));
}

// §7.3 p macro: a validated name of the client, preferring <domain> or one of its subdomains.
asio::awaitable<void> validate_client_name(Eval& ev, std::string domain) {
  ev.validated_done = true;
  ev.validated = "unknown";
  auto names = co_await ev.dns.ptr(ev.ip);
  if (names.ec) {
    co_return;
  }
  std::string domain_l = lower(strip_dot(domain));
  std::string best;
  for (std::size_t i = 0; i < names.records.size() && i < kMaxNamesPerMechanism; ++i) {
    std::string name = strip_dot(names.records[i]);
    auto addrs = co_await addresses(ev.dns, name, ev.ip.is_v4());
    bool ok = false;
    for (const auto& a : addrs.records) {
      ok = ok || a == ev.ip;
    }
    if (!ok) {
      continue;
    }
    std::string l = lower(name);
    if (l == domain_l) {
      best = name;
      break;
    }
    bool sub = l.size() > domain_l.size() &&
               l.compare(l.size() - domain_l.size(), domain_l.size(), domain_l) == 0 &&
               l[l.size() - domain_l.size() - 1] == '.';
    if (best.empty() || sub) {
      best = name;
    }
  }
  if (!best.empty()) {
    ev.validated = best;
  }
}

// Expands a domain-spec (empty: the current domain) into the name to query.
asio::awaitable<std::optional<std::string>> target_name(Eval& ev, const std::string& spec,
                                                        const std::string& domain) {
  if (spec.empty()) {
    co_return domain;
  }
  if (uses_p_macro(spec) && !ev.validated_done) {
    co_await validate_client_name(ev, domain);
  }
  MacroContext ctx = macro_context(ev, domain);
  auto out = expand_macros(spec, ctx, MacroMode::DomainSpec);
  if (!out) {
    co_return std::nullopt;
  }
  co_return strip_dot(*out);
}

asio::awaitable<Outcome> evaluate(Eval& ev, std::string domain);

// Counts a void answer; false when that goes over the limit (§4.6.4).
bool count_void(Eval& ev) { return ++ev.voids <= kMaxVoidLookups; }

MatchOutcome dns_failure(const boost::system::error_code& ec, Eval& ev, const std::string& name) {
  if (is_void(ec)) {
    if (!count_void(ev)) {
      return {Match::PermError, "too many void DNS lookups (RFC 7208 §4.6.4)"};
    }
    return {Match::No, ""};
  }
  return {Match::TempError, "DNS lookup of " + name + " failed: " + ec.message()};
}

asio::awaitable<MatchOutcome> match_addresses(Eval& ev, const std::string& name,
                                              const Mechanism& m) {
  bool v4 = ev.ip.is_v4();
  auto ans = co_await addresses(ev.dns, name, v4);
  if (ans.ec) {
    co_return dns_failure(ans.ec, ev, name);
  }
  int len = v4 ? m.cidr4 : m.cidr6;
  for (const auto& a : ans.records) {
    if (in_prefix(ev.ip, a, len)) {
      co_return MatchOutcome{Match::Yes, ""};
    }
  }
  co_return MatchOutcome{Match::No, ""};
}

asio::awaitable<MatchOutcome> match_mx(Eval& ev, const std::string& name, const Mechanism& m) {
  auto mx = co_await ev.dns.mx(name);
  if (mx.ec) {
    co_return dns_failure(mx.ec, ev, name);
  }
  if (mx.records.size() > kMaxNamesPerMechanism) {
    co_return MatchOutcome{Match::PermError, "more than 10 MX records for " + name};
  }
  bool v4 = ev.ip.is_v4();
  for (const auto& rec : mx.records) {
    std::string host = strip_dot(rec.host);
    if (host.empty()) {
      continue;  // null MX (RFC 7505)
    }
    auto ans = co_await addresses(ev.dns, host, v4);
    if (ans.ec) {
      if (!is_void(ans.ec)) {
        co_return MatchOutcome{Match::TempError, "DNS lookup of " + host + " failed"};
      }
      continue;
    }
    for (const auto& a : ans.records) {
      if (in_prefix(ev.ip, a, v4 ? m.cidr4 : m.cidr6)) {
        co_return MatchOutcome{Match::Yes, ""};
      }
    }
  }
  co_return MatchOutcome{Match::No, ""};
}

asio::awaitable<MatchOutcome> match_ptr(Eval& ev, const std::string& target) {
  auto names = co_await ev.dns.ptr(ev.ip);
  if (names.ec) {
    // §5.5: a DNS error on the PTR lookup makes the mechanism not match.
    if (is_void(names.ec) && !count_void(ev)) {
      co_return MatchOutcome{Match::PermError, "too many void DNS lookups (RFC 7208 §4.6.4)"};
    }
    co_return MatchOutcome{Match::No, ""};
  }
  std::string t = lower(target);
  bool v4 = ev.ip.is_v4();
  for (std::size_t i = 0; i < names.records.size() && i < kMaxNamesPerMechanism; ++i) {
    std::string name = strip_dot(names.records[i]);
    std::string l = lower(name);
    bool under =
        l == t || (l.size() > t.size() && l.compare(l.size() - t.size(), t.size(), t) == 0 &&
                   l[l.size() - t.size() - 1] == '.');
    if (!under) {
      continue;
    }
    auto ans = co_await addresses(ev.dns, name, v4);
    for (const auto& a : ans.records) {
      if (a == ev.ip) {
        co_return MatchOutcome{Match::Yes, ""};
      }
    }
  }
  co_return MatchOutcome{Match::No, ""};
}

asio::awaitable<MatchOutcome> match(Eval& ev, const Mechanism& m, const std::string& domain) {
  switch (m.kind) {
    case MechanismKind::All:
      co_return MatchOutcome{Match::Yes, ""};
    case MechanismKind::Ip4:
    case MechanismKind::Ip6:
      co_return MatchOutcome{
          in_prefix(ev.ip, m.network, m.kind == MechanismKind::Ip4 ? m.cidr4 : m.cidr6) ? Match::Yes
                                                                                        : Match::No,
          ""};
    default:
      break;
  }
  if (++ev.lookups > kMaxLookups) {
    co_return MatchOutcome{Match::PermError, "more than 10 DNS lookups (RFC 7208 §4.6.4)"};
  }
  auto target = co_await target_name(ev, m.domain_spec, domain);
  if (!target) {
    co_return MatchOutcome{Match::PermError, "bad macro in " + m.text};
  }
  switch (m.kind) {
    case MechanismKind::Include: {
      Outcome inner = co_await evaluate(ev, *target);
      switch (inner.result) {
        case Result::Pass:
          co_return MatchOutcome{Match::Yes, ""};
        case Result::Fail:
        case Result::SoftFail:
        case Result::Neutral:
          co_return MatchOutcome{Match::No, ""};
        case Result::TempError:
          co_return MatchOutcome{Match::TempError, inner.problem};
        case Result::None:
          co_return MatchOutcome{Match::PermError, "include:" + *target + " has no SPF record"};
        case Result::PermError:
          co_return MatchOutcome{Match::PermError, inner.problem};
      }
      co_return MatchOutcome{Match::PermError, ""};
    }
    case MechanismKind::A:
      co_return co_await match_addresses(ev, *target, m);
    case MechanismKind::Mx:
      co_return co_await match_mx(ev, *target, m);
    case MechanismKind::Ptr:
      co_return co_await match_ptr(ev, *target);
    case MechanismKind::Exists: {
      // §5.7: an A query whatever the client's address family.
      auto ans = co_await ev.dns.a(*target);
      if (ans.ec) {
        co_return dns_failure(ans.ec, ev, *target);
      }
      co_return MatchOutcome{Match::Yes, ""};
    }
    default:
      break;
  }
  co_return MatchOutcome{Match::PermError, ""};
}

// §6.2: the explanation for a fail; empty when anything about it goes wrong.
asio::awaitable<std::string> explain(Eval& ev, const std::string& exp, const std::string& domain) {
  auto target = co_await target_name(ev, exp, domain);
  if (!target || target->empty()) {
    co_return std::string();
  }
  auto ans = co_await ev.dns.txt(*target);
  if (ans.ec || ans.records.size() != 1) {
    co_return std::string();
  }
  if (uses_p_macro(ans.records[0]) && !ev.validated_done) {
    co_await validate_client_name(ev, domain);
  }
  MacroContext ctx = macro_context(ev, domain);
  auto text = expand_macros(ans.records[0], ctx, MacroMode::Explanation);
  co_return text ? *text : std::string();
}

asio::awaitable<Outcome> evaluate(Eval& ev, std::string domain) {
  domain = strip_dot(std::move(domain));
  if (!valid_domain(domain)) {
    co_return make(Result::None, "malformed domain '" + domain + "' (RFC 7208 §4.3)");
  }
  auto txt = co_await ev.dns.txt(domain);
  if (txt.ec) {
    if (is_void(txt.ec)) {
      co_return make(Result::None, "no SPF record for " + domain);
    }
    co_return make(Result::TempError, "TXT lookup of " + domain + " failed: " + txt.ec.message());
  }
  const std::string* found = nullptr;
  for (const auto& t : txt.records) {
    if (is_spf_record(t)) {
      if (found) {
        co_return make(Result::PermError, "more than one SPF record for " + domain);  // §4.5
      }
      found = &t;
    }
  }
  if (!found) {
    co_return make(Result::None, "no SPF record for " + domain);
  }
  ParsedRecord parsed = parse_record(*found);
  if (!parsed.error.empty()) {
    co_return make(Result::PermError, domain + ": " + parsed.error);
  }
  const Record& rec = parsed.record;
  for (const Mechanism& m : rec.mechanisms) {
    MatchOutcome mo = co_await match(ev, m, domain);
    if (mo.match == Match::No) {
      continue;
    }
    if (mo.match == Match::TempError) {
      co_return make(Result::TempError, mo.problem);
    }
    if (mo.match == Match::PermError) {
      co_return make(Result::PermError, mo.problem);
    }
    Outcome o;
    o.result = from_qualifier(m.qualifier);
    o.mechanism = m.text;
    if (o.result == Result::Fail && rec.has_exp) {
      o.explanation = co_await explain(ev, rec.exp, domain);
    }
    co_return o;
  }
  if (rec.has_redirect) {
    if (++ev.lookups > kMaxLookups) {
      co_return make(Result::PermError, "more than 10 DNS lookups (RFC 7208 §4.6.4)");
    }
    auto target = co_await target_name(ev, rec.redirect, domain);
    if (!target) {
      co_return make(Result::PermError, "bad macro in redirect=" + rec.redirect);
    }
    Outcome inner = co_await evaluate(ev, *target);
    if (inner.result == Result::None) {
      // §6.1: a redirect to a domain without a record is a permerror.
      co_return make(Result::PermError, "redirect=" + *target + " has no SPF record");
    }
    co_return inner;
  }
  Outcome o;
  o.result = Result::Neutral;  // §4.7
  o.mechanism = "default";
  co_return o;
}

}  // namespace

std::string_view to_string(Result r) {
  switch (r) {
    case Result::None:
      return "none";
    case Result::Neutral:
      return "neutral";
    case Result::Pass:
      return "pass";
    case Result::Fail:
      return "fail";
    case Result::SoftFail:
      return "softfail";
    case Result::TempError:
      return "temperror";
    case Result::PermError:
      return "permerror";
  }
  return "permerror";
}

asio::awaitable<Outcome> check_host(dns::Lookup& dns, asio::ip::address ip, std::string domain,
                                    std::string sender, std::string helo, std::string receiver) {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
    // Treat IPv4-mapped IPv6 clients as IPv4 (§5: the IP address family of the connection).
    ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
  }
  if (sender.empty()) {
    sender = "postmaster@" + helo;  // §4.3
  } else if (sender.front() == '@') {
    sender = "postmaster" + sender;  // §4.3: empty local-part
  } else if (sender.find('@') == std::string::npos) {
    sender = "postmaster@" + sender;
  }
  Eval ev{dns, ip, std::move(sender), std::move(helo), std::move(receiver), 0, 0, false, {}};
  co_return co_await evaluate(ev, std::move(domain));
}

std::string received_spf(const Outcome& outcome, const asio::ip::address& ip,
                         std::string_view envelope_from, std::string_view helo,
                         std::string_view receiver) {
  std::string from(envelope_from);
  std::string out(to_string(outcome.result));
  out += " (hikyaku: ";
  switch (outcome.result) {
    case Result::Pass:
      out += "domain of " + from + " designates " + ip.to_string() + " as permitted sender";
      break;
    case Result::Fail:
    case Result::SoftFail:
      out += "domain of " + from + " does not designate " + ip.to_string() + " as permitted sender";
      break;
    case Result::Neutral:
      out += ip.to_string() + " is neither permitted nor denied by domain of " + from;
      break;
    default:
      out += outcome.problem.empty() ? std::string("no verdict") : outcome.problem;
      break;
  }
  // §9.1: comments cannot hold unbalanced parentheses or backslashes; drop them.
  std::string cleaned;
  for (char c : out) {
    if (c != '(' && c != ')' && c != '\\') {
      cleaned += c;
    }
  }
  out = cleaned.substr(0, cleaned.find(' ')) + " (" + cleaned.substr(cleaned.find(' ') + 1);
  out += ") client-ip=" + ip.to_string() + ";";
  if (!from.empty()) {
    // A quoted-string (RFC 5322 §3.2.4): a quoted local part brings its own '"' and '\\'.
    out += " envelope-from=";
    base::append_quoted(out, from);
    out += ";";
  }
  if (!helo.empty()) {
    out += " helo=" + std::string(helo) + ";";
  }
  if (!receiver.empty()) {
    out += " receiver=" + std::string(receiver) + ";";
  }
  return out;
}

}  // namespace hk::spf
