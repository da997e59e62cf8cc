// `hikyaku --dev`: the configuration it writes, and where.
#include "daemon/server/dev_setup.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "certs/cert_store.hpp"
#include "certs/self_signed.hpp"
#include "lib/base/files.hpp"

namespace hk::server {

namespace fs = std::filesystem;

fs::path default_dev_dir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "hikyaku-dev";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home != '/') {
    throw std::runtime_error("--dev needs a folder: HOME is not set (give one: hikyaku --dev DIR)");
  }
  return fs::path(home) / ".local" / "share" / "hikyaku-dev";
}

std::string dev_config_text() {
  return R"(# Written by `hikyaku --dev`: a mail catcher for development (docs/capture.md). Mail sent
# from this machine to 127.0.0.1:1025 is captured, not delivered, and shown in the console at
# http://127.0.0.1:8025/ (its API speaks Mailpit's /api/v1). Edit freely: `hikyaku --dev` uses
# this file as it is from now on; `hikyaku -C <this folder>` runs it the same way.
hostname = "localhost"
# Relative to this folder: the captured mail, the queue of released mail, the Maildirs.
data_dir = "data"
# Only this machine may send without AUTH, and only its mail is captured.
trusted_networks = ["127.0.0.0/8", "::1/128"]
log_level = "info"

[listen]
smtp = ["127.0.0.1:1025"]
# No submission ports: nothing here needs root or a password.
submission = []
submission_tls = []
console = ["127.0.0.1:8025"]

[capture]
enabled = true
max_messages = 10000
# Recipients delivered for real all the same ("*@example.com", "*@*.example.com",
# "me@example.com"); released messages are delivered to their recipients' MX hosts, or through
# a [[relay]] written below.
deliver = []

[queue]
# Released mail that cannot be delivered is given up soon: this is not a production server.
lifetime = "1h"
)";
}

DevSetup prepare_dev_dir(const fs::path& dir) {
  DevSetup out;
  std::error_code ec;
  out.dir = fs::absolute(dir, ec).lexically_normal();
  if (ec) {
    throw std::runtime_error(dir.string() + ": " + ec.message());
  }
  if (!out.dir.has_filename()) {
    out.dir = out.dir.parent_path();  // "dir/" and "dir" alike
  }
  out.config = out.dir / "hikyaku.toml";
  if (!fs::exists(out.dir, ec)) {
    fs::create_directories(out.dir, ec);
    if (ec) {
      throw std::runtime_error("cannot create " + out.dir.string() + ": " + ec.message());
    }
    // Captured mail is other people's mail in the making: this user's alone.
    ::chmod(out.dir.c_str(), 0700);
  }
  if (fs::exists(out.config, ec)) {
    return out;
  }
  const fs::path cert_dir = out.dir / "certs" / "localhost";
  if (!fs::exists(cert_dir / "fullchain.pem", ec)) {
    try {
      certs::make_self_signed(cert_dir, {"localhost"}, 825);
    } catch (const certs::CertsError& e) {
      throw std::runtime_error("cannot write a certificate in " + cert_dir.string() + ": " +
                               e.what());
    }
  }
  // Written last: a folder whose config exists is complete.
  if (std::error_code wec = base::write_file_atomic(out.config, dev_config_text(), 0644)) {
    throw std::runtime_error("cannot write " + out.config.string() + ": " + wec.message());
  }
  out.created = true;
  return out;
}

}  // namespace hk::server
