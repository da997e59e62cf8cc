// Password hashing for the users file: scrypt (RFC 7914) through OpenSSL 3, with the cost
// parameters stored in every hash so that they can be raised later without breaking old entries.
//
// SECURITY: passwords are never stored or logged; hashes are compared in constant time
// (CRYPTO_memcmp). Encoded form, all fields ASCII, no spaces:
//   scrypt$<logN>$<r>$<p>$<salt, base64>$<derived key, base64>
// e.g. scrypt$14$8$1$<16-byte salt>$<32-byte key>. Accepted on reading: 1 <= logN <= 20,
// 1 <= r <= 32, 1 <= p <= 16, 128*r*2^logN <= 1 GiB of memory, salt 8-64 bytes, key 16-64 bytes.
#pragma once

#include <string>
#include <string_view>

namespace hk::domains {

// RFC 7914 §2: N = 2^log_n (CPU/memory cost), r (block size), p (parallelism). The defaults
// (N=16384, r=8, p=1: 16 MiB, tens of milliseconds) are the RFC 7914 §2 interactive-login
// recommendation.
struct ScryptParams {
  int log_n = 14;
  int r = 8;
  int p = 1;
};

// Hashes with a fresh 16-byte random salt into a 32-byte key. Throws DomainsError when the
// parameters are out of the accepted range or OpenSSL fails (no randomness).
std::string hash_password(std::string_view password);
std::string hash_password(std::string_view password, const ScryptParams& params);

// True when `password` matches `encoded`. A malformed `encoded` never matches.
bool verify_password(std::string_view encoded, std::string_view password);

// True when `encoded` has the form above with parameters in range (no scrypt is run).
bool is_valid_password_hash(std::string_view encoded);

// Runs one scrypt with the default parameters and discards it, so that a failed login for an
// unknown user takes as long as one for a known user and does not reveal who exists.
void spend_dummy_password_check(std::string_view password);

}  // namespace hk::domains
