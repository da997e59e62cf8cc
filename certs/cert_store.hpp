// CertStore: the server's TLS identities, one folder per name under CONFIG_DIR/certs/ as certbot
// and acme.sh deploy them; picks the certificate by SNI and reloads when the files change.
//
// SECURITY: reads private keys. A broken file at startup stops the daemon (CertsError); a broken
// file at reload never replaces a working identity. OpenSSL calls back into this code during
// handshakes with remote input (the SNI name): that path is noexcept and allocation-free.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/base/reload.hpp"
#include "lib/base/tls_version.hpp"

namespace hk::certs {

struct CertsError : std::runtime_error {
  using runtime_error::runtime_error;
};

using base::MinTls;  // read from tls.min_version by hk_config

// What one folder holds, for logs, `hikyaku-util` and expiry warnings.
struct CertInfo {
  std::string folder;
  std::vector<std::string> names;  // DNS subjectAltNames, then the subject CN; lower case
  std::chrono::system_clock::time_point not_after;
  bool is_default = false;  // served without SNI or when no name matches
};

// The outcome of a reload: `changed` when a new set of identities is now in service; `error`
// (names the folder, the file and the OpenSSL reason) when the attempt failed and the previous
// identities stay in service.
using ReloadResult = base::ReloadResult;

class CertStore {
 public:
  // `default_name` is the server's hostname: the folder whose certificate names match it is
  // served to clients that send no SNI or an unknown name; else the first folder in sorted order.
  // `session_tickets` (tls.session_tickets): whether clients get RFC 5077 / TLS 1.3 tickets.
  CertStore(std::filesystem::path certs_dir, std::string default_name, MinTls min,
            bool session_tickets = false);
  ~CertStore();
  CertStore(const CertStore&) = delete;
  CertStore& operator=(const CertStore&) = delete;

  // Loads every folder (hidden entries and plain files are skipped; symlinks are followed).
  // Throws CertsError if a folder is broken. A missing or empty certs dir is not an error: then
  // has_tls() is false and STARTTLS is not offered.
  void load();

  bool has_tls() const;

  // The context for new server-side TLS sessions, or nullptr when !has_tls(). Its SNI callback
  // switches each connection to the folder whose certificate names match (exact, then wildcard).
  // The pointer keeps every folder's context of this generation alive: a session holds it for
  // its lifetime, so a reload never pulls a context from under a live connection.
  // Safe to call from any thread.
  std::shared_ptr<boost::asio::ssl::context> context() const;

  // Re-reads the folders if a fullchain.pem or privkey.pem changed (stat through symlinks:
  // device, inode, size, mode, mtime, ctime) or a folder came or went. Reports a failed attempt
  // once and retries only when the files change again.
  ReloadResult reload_if_changed();
  // Re-reads unconditionally (SIGHUP).
  ReloadResult reload();

  std::vector<CertInfo> info() const;

 private:
  struct Snapshot;

  base::Fingerprint fingerprint() const;
  // Throws CertsError; null when there is no folder and nothing in service.
  std::shared_ptr<Snapshot> build(const std::shared_ptr<Snapshot>& previous) const;

  const std::filesystem::path dir_;
  const std::string default_name_;
  const MinTls min_;
  const bool session_tickets_;
  base::Reloadable<Snapshot> snapshot_;  // null when there is no identity
};

}  // namespace hk::certs
