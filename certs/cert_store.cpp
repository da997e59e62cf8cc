// CertStore: loading the certificate folders, SNI selection, reload on change.
#include "certs/cert_store.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "certs/names.hpp"
#include "certs/tls_context.hpp"

namespace hk::certs {
namespace {

namespace fs = std::filesystem;

// What the SNI callback reads: plain data, so that the callback allocates nothing.
struct SniTable {
  std::vector<std::vector<std::string>> names;  // per identity, in sorted folder order
  std::vector<SSL_CTX*> contexts;               // per identity; owned by the Snapshot
  size_t default_index = 0;
};

// RFC 6066 §3: the server uses the name to pick its certificate. An unknown name gets the
// default certificate rather than an alert: opportunistic SMTP clients rarely check names
// (RFC 7435), and encryption with an unmatched certificate beats none.
int select_by_sni(SSL* ssl, int* alert, void* arg) noexcept {
  const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (host == nullptr || arg == nullptr) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  const auto* table = static_cast<const SniTable*>(arg);
  int index = pick_identity(table->names, host);
  if (index < 0) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  auto i = static_cast<size_t>(index);
  if (i != table->default_index && SSL_set_SSL_CTX(ssl, table->contexts[i]) == nullptr) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

struct Listing {
  std::vector<fs::path> folders;  // sorted
  std::string error;
};

// The identity folders: directories and symlinks (a dangling one is reported when loaded);
// hidden entries and plain files (a README) are not identities.
Listing list_folders(const fs::path& dir) {
  Listing out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) {
    return out;
  }
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') {
      continue;
    }
    std::error_code ignored;
    if (it->is_directory(ignored) || it->is_symlink(ignored)) {
      out.folders.push_back(it->path());
    }
  }
  if (ec) {
    out.error = "certs dir " + dir.string() + ": " + ec.message();
  }
  std::sort(out.folders.begin(), out.folders.end());
  return out;
}

}  // namespace

// One generation of identities. context() hands out aliases of the shared_ptr that owns it, so
// the generation lives until the last session that took its context ends.
struct CertStore::Snapshot {
  std::vector<Identity> identities;
  SniTable sni;
  std::optional<boost::asio::ssl::context> server;  // holds its own reference to the default

  Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() {
    // An SSL that somehow outlives this generation must not call back into freed memory.
    if (server) {
      SSL_CTX_set_tlsext_servername_arg(server->native_handle(), nullptr);
    }
  }
};

CertStore::CertStore(std::filesystem::path certs_dir, std::string default_name, MinTls min,
                     bool session_tickets)
    : dir_(std::move(certs_dir)),
      default_name_(std::move(default_name)),
      min_(min),
      session_tickets_(session_tickets),
      snapshot_([this] { return fingerprint(); },
                [this](const std::shared_ptr<Snapshot>& previous) { return build(previous); }) {}

CertStore::~CertStore() = default;

// The two files of every folder: a folder that comes or goes adds or drops its two paths. A
// listing failure other than a missing dir is stamped through the dir itself, so that fixing it
// (a chmod changes the ctime) is a change.
base::Fingerprint CertStore::fingerprint() const {
  base::Fingerprint stamp;
  Listing listing = list_folders(dir_);
  if (!listing.error.empty()) {
    stamp.add_file(dir_);
  }
  for (const fs::path& folder : listing.folders) {
    stamp.add_file(folder / kFullchainFile);
    stamp.add_file(folder / kPrivkeyFile);
  }
  return stamp;
}

std::shared_ptr<CertStore::Snapshot> CertStore::build(
    const std::shared_ptr<Snapshot>& previous) const {
  Listing listing = list_folders(dir_);
  if (!listing.error.empty()) {
    throw CertsError(listing.error);
  }
  if (listing.folders.empty()) {
    if (!previous) {
      return nullptr;
    }
    // Most likely a deploy hook in the middle of swapping folders; taking TLS away from a
    // running server would be worse than serving the previous certificates.
    throw CertsError("certs dir " + dir_.string() +
                     " holds no certificate folder; keeping the previous certificates");
  }
  auto snap = std::make_shared<Snapshot>();
  for (const fs::path& folder : listing.folders) {
    snap->identities.push_back(load_identity(folder, min_, session_tickets_));
    snap->sni.names.push_back(snap->identities.back().names);
    snap->sni.contexts.push_back(snap->identities.back().ctx.get());
  }
  int index = pick_identity(snap->sni.names, default_name_);
  snap->sni.default_index = index < 0 ? 0 : static_cast<size_t>(index);
  SSL_CTX* def = snap->sni.contexts[snap->sni.default_index];
  SSL_CTX_up_ref(def);
  snap->server.emplace(def);
  // SSL_CTX_set_tlsext_servername_callback() spelled out: the macro's C-style cast is refused by
  // -Wold-style-cast. OpenSSL calls it back with its real type.
  SSL_CTX_callback_ctrl(def, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(&select_by_sni));
  SSL_CTX_set_tlsext_servername_arg(def, &snap->sni);
  return snap;
}

void CertStore::load() { snapshot_.load(); }

bool CertStore::has_tls() const { return snapshot_.current() != nullptr; }

std::shared_ptr<boost::asio::ssl::context> CertStore::context() const {
  std::shared_ptr<Snapshot> snap = snapshot_.current();
  if (!snap) {
    return nullptr;
  }
  boost::asio::ssl::context* server = &*snap->server;
  return {std::move(snap), server};
}

ReloadResult CertStore::reload_if_changed() { return snapshot_.reload_if_changed(); }

ReloadResult CertStore::reload() { return snapshot_.reload(); }

std::vector<CertInfo> CertStore::info() const {
  std::shared_ptr<Snapshot> snap = snapshot_.current();
  std::vector<CertInfo> out;
  if (!snap) {
    return out;
  }
  for (size_t i = 0; i < snap->identities.size(); ++i) {
    const Identity& id = snap->identities[i];
    out.push_back({id.folder, id.names, id.not_after, i == snap->sni.default_index});
  }
  return out;
}

}  // namespace hk::certs
