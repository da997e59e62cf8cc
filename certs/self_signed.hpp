// make_self_signed(): a self-signed server certificate in the certs folder layout, for the
// installer's working default configuration and for tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hk::certs {

enum class KeyType { EcP256, Rsa2048 };

// Writes dir/privkey.pem (PKCS#8, mode 0600) and dir/fullchain.pem (mode 0644) for `names` (the
// first is also the CN), valid from now for `days` (negative: already expired, for tests).
// Creates `dir`. Throws CertsError on invalid names or an OpenSSL or file error.
void make_self_signed(const std::filesystem::path& dir, const std::vector<std::string>& names,
                      int days = 365, KeyType type = KeyType::EcP256);

}  // namespace hk::certs
