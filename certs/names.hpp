// Host name matching for SNI: a requested name against the DNS names of a certificate
// (RFC 6125 §6.4: exact, or a `*` that stands for the whole left-most label).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hk::certs {

enum class NameMatch { None, Wildcard, Exact };

// How `host` matches one certificate name. Case-insensitive (RFC 4343); one trailing dot on
// either side is ignored. A wildcard matches exactly one non-empty label: `*.b.test` matches
// `x.b.test` but neither `b.test` nor `y.x.b.test` (RFC 6125 §6.4.3). Allocates nothing, so
// that the OpenSSL SNI callback can call it.
NameMatch match_name(std::string_view pattern, std::string_view host) noexcept;

// Index of the identity (each a list of names, in sorted folder order) that serves `host`: the
// first with an exact match, else the first with a wildcard match, else -1.
int pick_identity(const std::vector<std::vector<std::string>>& identities,
                  std::string_view host) noexcept;

}  // namespace hk::certs
