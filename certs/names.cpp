// Host name matching for SNI (RFC 6125 §6.4).
#include "certs/names.hpp"

#include "lib/base/ascii.hpp"

namespace hk::certs {
namespace {

using base::iequals;

std::string_view strip_dot(std::string_view s) noexcept {
  if (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

NameMatch match_name(std::string_view pattern, std::string_view host) noexcept {
  pattern = strip_dot(pattern);
  host = strip_dot(host);
  if (host.empty() || pattern.empty()) {
    return NameMatch::None;
  }
  if (iequals(pattern, host)) {
    return NameMatch::Exact;
  }
  // Only `*.` followed by at least two labels counts as a wildcard; `*.com` would cover a whole
  // top-level domain and `f*.example.com` is not supported (RFC 6125 §7.2 advises against it).
  if (pattern.size() < 3 || pattern[0] != '*' || pattern[1] != '.') {
    return NameMatch::None;
  }
  std::string_view suffix = pattern.substr(2);
  if (suffix.find('.') == std::string_view::npos) {
    return NameMatch::None;
  }
  size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0) {
    return NameMatch::None;
  }
  return iequals(suffix, host.substr(dot + 1)) ? NameMatch::Wildcard : NameMatch::None;
}

int pick_identity(const std::vector<std::vector<std::string>>& identities,
                  std::string_view host) noexcept {
  int wildcard = -1;
  for (size_t i = 0; i < identities.size(); ++i) {
    for (const std::string& name : identities[i]) {
      NameMatch m = match_name(name, host);
      if (m == NameMatch::Exact) {
        return static_cast<int>(i);
      }
      if (m == NameMatch::Wildcard && wildcard < 0) {
        wildcard = static_cast<int>(i);
      }
    }
  }
  return wildcard;
}

}  // namespace hk::certs
