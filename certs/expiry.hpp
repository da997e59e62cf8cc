// Certificate expiry: how close each served certificate is to its notAfter, and the log lines
// that tell the operator in time (within 14 days: a warning; past it: an error).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "certs/cert_store.hpp"

namespace hk::certs {

// Let's Encrypt certificates live 90 days and certbot renews at 30 days left: a certificate with
// less than 14 days left means the renewal (or its deploy hook) has failed for two weeks.
inline constexpr std::chrono::hours kExpiryWarning{14 * 24};

enum class Expiry { Ok, Soon, Expired };

Expiry expiry_of(std::chrono::system_clock::time_point not_after,
                 std::chrono::system_clock::time_point now);

// Whole days left, rounded down; negative once expired (-1 during the first day after).
int64_t days_left(std::chrono::system_clock::time_point not_after,
                  std::chrono::system_clock::time_point now);

// "2026-12-12T10:00:00Z".
std::string iso_utc(std::chrono::system_clock::time_point t);

// Logs one line per certificate that expires within kExpiryWarning (warn) or has expired
// (error); nothing for the others. Returns how many lines it wrote.
size_t log_expiry(const std::vector<CertInfo>& certs, std::chrono::system_clock::time_point now);

}  // namespace hk::certs
