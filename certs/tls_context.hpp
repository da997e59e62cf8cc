// One TLS identity: a certificate folder (fullchain.pem + privkey.pem) turned into a server
// SSL_CTX with hikyaku's protocol policy. Internal to hk_certs.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "certs/cert_store.hpp"
#include "lib/base/openssl.hpp"

namespace hk::certs {

inline constexpr const char* kFullchainFile = "fullchain.pem";
inline constexpr const char* kPrivkeyFile = "privkey.pem";

struct Identity {
  std::string folder;
  std::vector<std::string> names;
  std::chrono::system_clock::time_point not_after;
  base::SslCtxPtr ctx;
};

// Reads `folder_path`/{fullchain,privkey}.pem (following symlinks) into a new SSL_CTX. Throws
// CertsError "certs folder NAME: FILE: reason".
// `session_tickets` false: the context issues no session tickets (see new_server_ctx).
Identity load_identity(const std::filesystem::path& folder_path, MinTls min,
                       bool session_tickets = false);

// The DNS subjectAltNames and the subject CNs of `cert`, lower case, without duplicates.
std::vector<std::string> certificate_names(X509* cert);

}  // namespace hk::certs
