// Capture mode's allow list and failure injection, on addresses as text.
#include "daemon/server/capture_rules.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <utility>

#include "lib/base/ascii.hpp"

namespace hk::server {
namespace {

// The local part and domain of "local@domain", split at the last '@' (a quoted local part may
// hold one); no '@' is a local part alone.
std::pair<std::string_view, std::string_view> split(std::string_view address) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) {
    return {address, {}};
  }
  return {address.substr(0, at), address.substr(at + 1)};
}

// The injection a whole local part (or +tag) names; outcome None and no delay when it names none.
Injection named(std::string_view word) {
  Injection out;
  const std::string lower = base::to_lower(word);
  if (lower == "fail-550") {
    out.outcome = Injection::Outcome::Fail550;
  } else if (lower == "defer-451") {
    out.outcome = Injection::Outcome::Defer451;
  } else if (lower.size() > 6 && lower.starts_with("slow-") && lower.back() == 's') {
    const std::string_view digits = std::string_view(lower).substr(5, lower.size() - 6);
    const bool all_digits =
        std::all_of(digits.begin(), digits.end(), [](char c) { return base::is_digit(c); });
    // Leading zeros are skipped; more than three digits is past the limit anyway.
    const std::string_view number =
        digits.substr(std::min(digits.find_first_not_of('0'), digits.size()));
    if (!all_digits || number.empty()) {
      return Injection{};  // slow-s, slow-xs, slow-0s: an ordinary local part
    }
    int64_t n = kMaxInjectedDelay.count();
    if (number.size() <= 3) {
      std::from_chars(number.data(), number.data() + number.size(), n);
    }
    out.delay = std::min(std::chrono::seconds(n), kMaxInjectedDelay);
  } else {
    return out;
  }
  out.name = lower;
  return out;
}

}  // namespace

bool deliver_allowed(const std::vector<std::string>& patterns, std::string_view address) {
  const std::string lower = base::to_lower(address);
  const auto [local, domain] = split(lower);
  for (const std::string& p : patterns) {
    if (p.starts_with("*@*.")) {
      const std::string_view parent = std::string_view(p).substr(4);
      if (domain.size() > parent.size() + 1 && domain.ends_with(parent) &&
          domain[domain.size() - parent.size() - 1] == '.') {
        return true;
      }
    } else if (p.starts_with("*@")) {
      if (domain == std::string_view(p).substr(2)) {
        return true;
      }
    } else if (p == lower) {
      return true;
    }
  }
  return false;
}

Injection find_injection(std::string_view address) {
  const std::string_view local = split(address).first;
  Injection whole = named(local);
  if (whole.any()) {
    return whole;
  }
  const size_t plus = local.rfind('+');
  if (plus == std::string_view::npos) {
    return Injection{};
  }
  Injection tag = named(local.substr(plus + 1));
  tag.at_dot = tag.any();
  return tag;
}

Injection injection_at_dot(const std::vector<std::string>& addresses) {
  Injection out;
  out.at_dot = true;
  for (const std::string& a : addresses) {
    Injection i = find_injection(a);
    if (!i.at_dot) {
      continue;
    }
    if (i.outcome == Injection::Outcome::Fail550 ||
        (i.outcome == Injection::Outcome::Defer451 && out.outcome == Injection::Outcome::None)) {
      out.outcome = i.outcome;
    }
    out.delay = std::max(out.delay, i.delay);
    // Every tag is named in the log line, each once.
    if (("," + out.name + ",").find("," + i.name + ",") == std::string::npos) {
      out.name += (out.name.empty() ? "" : ",") + i.name;
    }
  }
  return out;
}

smtp::Reply injected_reply(const Injection& injection) {
  if (injection.outcome == Injection::Outcome::Fail550) {
    return smtp::Reply(550, "5.1.1", "Injected failure (capture mode: fail-550)");
  }
  return smtp::Reply(451, "4.3.0", "Injected deferral (capture mode: defer-451)");
}

}  // namespace hk::server
